"""Login timing: a wrong password for an existing email against an unknown email.

Run against a running stack (``make run``, or ``python -m devstack``)::

    .venv/bin/python -m bench.login_timing --url http://127.0.0.1:8000 --tries 30

Registers ``--tries`` accounts, then interleaves one wrong-password login per account
with one login for an email nobody registered, and prints both medians. Each account
is tried once, so the backoff never answers 429 in place of a password check. A
measurement on one machine, for docs/security.md; the tests count AWS calls and hash
verifications instead (tests/api/test_auth.py).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

from scripts.http_client import JsonClient, UrllibTransport


def _timed_login(client: JsonClient, email: str) -> float:
    started = time.perf_counter()
    reply = client.post("/users/login", {"email": email, "password": "not-the-password"})
    elapsed = (time.perf_counter() - started) * 1000
    if reply.status != 401:
        raise SystemExit(f"expected 401 for {email}, got {reply.status}: {reply.body}")
    return elapsed


def measure(url: str, tries: int) -> dict[str, float]:
    client = JsonClient(UrllibTransport(url))
    run = uuid.uuid4().hex[:8]
    existing = []
    for i in range(tries):
        email = f"timing-{run}-{i}@example.com"
        body = {"email": email, "name": "Timing", "password": "the-right-password"}
        reply = client.post("/users/register", body)
        if reply.status != 201:
            raise SystemExit(f"register failed: {reply.status} {reply.body}")
        existing.append(email)
    _timed_login(client, f"warm-up-{run}@example.com")  # imports, dummy hash
    known, unknown = [], []
    for i, email in enumerate(existing):
        known.append(_timed_login(client, email))
        unknown.append(_timed_login(client, f"nobody-{run}-{i}@example.com"))
    return {"existing": statistics.median(known), "unknown": statistics.median(unknown)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--tries", type=int, default=30)
    args = parser.parse_args()
    medians = measure(args.url, args.tries)
    print(
        f"login median over {args.tries} interleaved tries: "
        f"existing email, wrong password {medians['existing']:.1f} ms; "
        f"unknown email {medians['unknown']:.1f} ms"
    )


if __name__ == "__main__":
    main()
