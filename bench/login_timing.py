"""Login under attack: timing of unknown emails, and a burst of parallel guesses.

Run against a running stack (``make run``, or ``python -m devstack``)::

    .venv/bin/python -m bench.login_timing --url http://127.0.0.1:8000 --tries 30

Timing: registers ``--tries`` accounts, then interleaves one wrong-password login per
account with one login for an email nobody registered, and prints both medians. Each
account is tried once, so the backoff never answers 429 in place of a password check.
Burst: 30 logins for one account at once (29 wrong passwords and the right one); every
answer but a 429 is a password check. Measurements on one machine, for docs/security.md;
the tests count AWS calls and hash verifications instead (tests/api/test_auth.py,
tests/api/test_login_backoff.py, tests/e2e/test_accounts_e2e.py).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections import Counter

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


def burst(url: str, size: int = 30) -> Counter[int]:
    """``size`` logins for one account released together: the answers' statuses."""
    client = JsonClient(UrllibTransport(url))
    email = f"burst-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "name": "Burst", "password": "the-right-password"}
    if client.post("/users/register", body).status != 201:
        raise SystemExit("register failed")
    guesses = [f"wrong-{i}" for i in range(size - 1)] + ["the-right-password"]
    start = threading.Barrier(size)
    statuses: list[int] = []

    def guess(password: str) -> None:
        start.wait()
        statuses.append(client.post("/users/login", {"email": email, "password": password})[0])

    threads = [threading.Thread(target=guess, args=(g,)) for g in guesses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


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
    statuses = burst(args.url)
    checks = sum(n for status, n in statuses.items() if status != 429)
    print(f"30 parallel guesses (29 wrong, 1 right): {checks} password checks; {dict(statuses)}")


if __name__ == "__main__":
    main()
