"""The request's time budget against real botocore retries (an emulator that throttles)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.errors import DeadlineExceeded
from devstack.emulator import Emulator


@pytest.fixture
def throttling_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, Any]]:
    """A watched DynamoDB client, 3 attempts of at most 0.5 s, against a throttling emulator."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    monkeypatch.setenv("SDK_CONNECT_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setenv("SDK_READ_TIMEOUT_SECONDS", "0.3")
    monkeypatch.setenv("SDK_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    import botocore.session

    with Emulator() as emulator:
        client = botocore.session.get_session().create_client(
            "dynamodb",
            region_name="us-east-1",
            endpoint_url=emulator.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=aws.client_config(),
        )
        aws.watch(client)
        emulator.chaos.rate = 1.0
        yield emulator, client
    get_settings.cache_clear()


def attempts_seen(emulator: Emulator) -> int:
    return int(emulator.chaos.state()["seen"].get("dynamodb.ListTables", 0))


def test_without_a_deadline_botocore_makes_all_its_attempts(throttling_dynamodb) -> None:
    emulator, client = throttling_dynamodb

    with pytest.raises(ClientError):
        client.list_tables()

    assert attempts_seen(emulator) == 3


def test_a_retry_whose_backoff_cannot_fit_the_budget_is_not_waited_for(
    throttling_dynamodb,
) -> None:
    emulator, client = throttling_dynamodb

    # 1.2 s: room for one 0.5 s attempt, not for a backoff of up to 1 s plus another.
    with aws.deadline(1.2), pytest.raises(DeadlineExceeded) as raised:
        client.list_tables()

    assert attempts_seen(emulator) == 1
    assert raised.value.dependency == "DynamoDB"


def test_an_attempt_that_cannot_finish_in_time_is_not_sent(throttling_dynamodb) -> None:
    emulator, client = throttling_dynamodb

    with aws.deadline(0.4), pytest.raises(DeadlineExceeded):
        client.list_tables()

    assert attempts_seen(emulator) == 0
