"""The order lifecycle's tables (chalicelib/order_lifecycle.py) and what is derived from them.

Every check here is derived from the tables: a status, transition or event added there
without its wording, its docs row or its subscriber handling fails one of them. The
status tables in docs/events.md and docs/api.md are generated from the tables:
``WRITE_DOCS=1 .venv/bin/python -m pytest tests/unit/test_order_lifecycle.py`` rewrites
them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from chalicelib import order_lifecycle as lifecycle
from chalicelib import schemas
from chalicelib.notifications import RENDERED_EVENT_TYPES

DOCS = Path(__file__).resolve().parents[2] / "docs"
EVERY_EVENT = lifecycle.EVENT_TYPES + lifecycle.PAYMENT_EVENT_TYPES
STATUS_CHANGE_EVENTS = tuple(e for e in EVERY_EVENT if e not in lifecycle.NOTICES)


def _stock_back(step: lifecycle.Transition) -> str:
    if step.restocks:
        return "yes"
    return "the returned lines approved for restock" if step.restocks_returned else "no"


def transitions_table() -> str:
    rows = [
        "| transition | from | to | event it announces | stock back | buyer email |",
        "|---|---|---|---|---|---|",
    ]
    for step in lifecycle.TRANSITIONS:
        sources = ", ".join(f"`{s}`" for s in step.sources) or "(a new order)"
        event = f"`{step.event}`" if step.event else "none (acknowledges `OrderPlaced`)"
        if step.with_payment:
            event += " (payment provider)"
        rows.append(
            f"| {step.name} | {sources} | `{step.target}` | {event} | "
            f"{_stock_back(step)} | {'yes' if step.emails_buyer else 'no'} |"
        )
    return "\n".join(rows)


def statuses_table() -> str:
    rows = ["| status | meaning | can become |", "|---|---|---|"]
    for status, meaning in lifecycle.STATUSES.items():
        nexts = sorted({s.target for s in lifecycle.TRANSITIONS if status in s.sources})
        rows.append(
            f"| `{status}` | {meaning} | {', '.join(f'`{n}`' for n in nexts) or '(final)'} |"
        )
    return "\n".join(rows)


GENERATED = {
    ("events.md", "transitions"): transitions_table,
    ("api.md", "statuses"): statuses_table,
}


@pytest.mark.parametrize(("page", "name"), list(GENERATED))
def test_the_docs_tables_are_generated_from_the_lifecycle(page, name):
    path = DOCS / page
    text = path.read_text()
    begin, end = f"<!-- lifecycle:{name} -->\n", f"\n<!-- /lifecycle:{name} -->"
    pattern = re.compile(re.escape(begin) + r"(.*?)" + re.escape(end), re.S)
    match = pattern.search(text)
    assert match, f"docs/{page} has no {begin.strip()} ... {end.strip()} section"
    wanted = GENERATED[(page, name)]()
    if os.environ.get("WRITE_DOCS") and match.group(1) != wanted:
        path.write_text(text[: match.start(1)] + wanted + text[match.end(1) :])
        return
    assert match.group(1) == wanted, f"stale: WRITE_DOCS=1 pytest {__file__}"


@pytest.mark.parametrize("status", lifecycle.ORDER_STATUSES)
def test_every_status_has_its_wording_and_is_in_both_docs_tables(status):
    assert lifecycle.STATUSES[status].strip()
    for page in ("events.md", "api.md"):
        assert f"`{status}`" in (DOCS / page).read_text(), f"docs/{page} misses {status}"


@pytest.mark.parametrize("status", lifecycle.ORDER_STATUSES)
def test_every_status_is_reachable_and_every_transition_names_known_statuses(status):
    assert any(step.target == status for step in lifecycle.TRANSITIONS)
    for step in lifecycle.TRANSITIONS:
        assert set(step.sources) <= set(lifecycle.ORDER_STATUSES)
        assert step.target in lifecycle.ORDER_STATUSES


@pytest.mark.parametrize("event_type", STATUS_CHANGE_EVENTS)
def test_every_event_has_its_transition_its_wording_and_its_subscriber(event_type):
    emitted_by = [s for s in lifecycle.TRANSITIONS if s.event == event_type]
    assert emitted_by, f"no transition announces {event_type}"
    assert event_type in RENDERED_EVENT_TYPES  # staff and buyer wording
    # The publisher announces it for each of its transitions ...
    for step in emitted_by:
        for source in step.sources or (None,):
            assert lifecycle.announced(source, step.target) == event_type
    # ... and the subscriber knows it on the stages that produce it.
    assert event_type in lifecycle.EVENT_TYPES or event_type in lifecycle.PAYMENT_EVENT_TYPES
    if any(s.emails_buyer for s in emitted_by):
        assert event_type in lifecycle.BUYER_EMAIL_STATUS


@pytest.mark.parametrize("event_type", lifecycle.NOTICES)
def test_every_notice_is_no_transitions_event_and_has_its_wording(event_type):
    assert not [s for s in lifecycle.TRANSITIONS if s.event == event_type]
    assert event_type in RENDERED_EVENT_TYPES
    assert event_type in lifecycle.EVENT_TYPES  # every stage's subscriber knows it
    assert event_type not in lifecycle.BUYER_EMAIL_STATUS  # its email is per refund


def test_a_status_change_without_an_event_announces_nothing():
    for step in lifecycle.TRANSITIONS:
        if step.event is None:
            for source in step.sources:
                assert lifecycle.announced(source, step.target) is None
    assert lifecycle.announced(lifecycle.CONFIRMED, lifecycle.CONFIRMED) is None


def test_the_order_schema_and_the_status_filter_offer_every_status():
    from chalicelib.openapi import ORDERS_STATUS_FILTER

    # One named OrderStatus schema, referenced by the order and by the ?status= filter.
    status = schemas.ref("OrderStatus")
    assert schemas.RESPONSE_SCHEMAS["Order"]["properties"]["status"] == status
    assert ORDERS_STATUS_FILTER["schema"] == status
    assert schemas.SHARED_SCHEMAS["OrderStatus"]["enum"] == list(lifecycle.STATUSES)
