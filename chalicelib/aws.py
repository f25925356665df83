"""botocore clients, created lazily and shared per container.

botocore (already in the bundle through PynamoDB) honours ``AWS_ENDPOINT_URL``
just like PynamoDB, so the local emulator needs no code path of its own.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def client(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().create_client(service)
