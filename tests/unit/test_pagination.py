"""Cursor encoding/decoding, ``?limit=`` parsing and page cutting, without any AWS."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import QueryError, ScanError

from chalicelib.errors import ValidationError
from chalicelib.pagination import (
    DEFAULT_LIMIT,
    MAX_CURSOR_LENGTH,
    MAX_LIMIT,
    decode_cursor,
    encode_cursor,
    paginate,
    parse_limit,
    seal,
    unseal,
)

PRODUCT_KEY = {"productId"}
ORDER_KEY = {"orderId", "userId", "createdAt"}


def raw_cursor(payload: Any) -> str:
    """What a client could forge: any JSON, base64url-encoded like a real cursor."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# --- parse_limit -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", [None, {}, {"cursor": "x"}])
def test_limit_defaults_to_20(query):
    assert DEFAULT_LIMIT == 20
    assert parse_limit(query) == 20


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("20", 20), ("100", 100), ("007", 7)])
def test_limit_accepts_integers_from_1_to_100(raw, expected):
    assert MAX_LIMIT == 100
    assert parse_limit({"limit": raw}) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "0",
        "101",
        "1000",
        "-1",
        "+5",
        "1.5",
        "1e1",
        "abc",
        "",
        " 5",
        "5 ",
        "0x10",
        "²",  # str.isdigit() says yes, int() says no
        "１",  # noqa: RUF001 - fullwidth digit one
        "٣",  # Arabic-Indic digit three
        "1" * 5000,  # longer than int() converts by default
        "0" * 50 + "5",
    ],
)
def test_limit_rejects_anything_else_as_validation_error(raw):
    with pytest.raises(ValidationError) as caught:
        parse_limit({"limit": raw})
    assert caught.value.status_code == 400
    assert "limit" in caught.value.message
    assert "100" in caught.value.message


# --- encode_cursor / decode_cursor -----------------------------------------------------------


def test_cursor_round_trips_a_single_key():
    key = {"productId": {"S": "0b7c2a9e-5a1c-4c4e-9d7e-0b9f7a1c2d3e"}}
    cursor = encode_cursor(key)
    assert decode_cursor(cursor, PRODUCT_KEY) == key


def test_cursor_round_trips_a_composite_key_with_unicode():
    key = {
        "orderId": {"S": "ord-1"},
        "userId": {"S": "usér-ß-✓"},
        "createdAt": {"S": "2024-05-01T12:00:00.000Z"},
    }
    assert decode_cursor(encode_cursor(key), ORDER_KEY) == key


def test_cursor_is_url_safe_and_unpadded():
    # Values chosen so the standard alphabet would need '+', '/' and '=' padding.
    key = {"productId": {"S": "\xfb\xff?>~~~" * 7}}
    cursor = encode_cursor(key)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor
    assert decode_cursor(cursor, PRODUCT_KEY) == key


def test_cursor_encoding_is_deterministic_whatever_the_key_order():
    a = {"orderId": {"S": "o"}, "userId": {"S": "u"}, "createdAt": {"S": "c"}}
    b = {"createdAt": {"S": "c"}, "userId": {"S": "u"}, "orderId": {"S": "o"}}
    assert encode_cursor(a) == encode_cursor(b)


def test_no_cursor_means_first_page():
    assert decode_cursor(None, PRODUCT_KEY) is None


def assert_invalid(cursor: str, key_names: set[str] = PRODUCT_KEY, fixed=None) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_cursor(cursor, key_names, fixed)
    assert caught.value.status_code == 400
    assert caught.value.code == "ValidationError"
    assert "cursor" in caught.value.message


@pytest.mark.parametrize(
    "payload",
    [
        {"pk": {"S": "USER#1"}},  # another table's key
        {"productid": {"S": "p1"}},  # case matters
        {},
        {"productId": {"S": "p1"}, "extra": {"S": "x"}},
    ],
)
def test_cursor_with_wrong_key_names_is_rejected(payload):
    assert_invalid(raw_cursor(payload))


def test_cursor_missing_one_of_a_composite_key_is_rejected():
    assert_invalid(raw_cursor({"orderId": {"S": "o"}, "userId": {"S": "u"}}), ORDER_KEY)


@pytest.mark.parametrize(
    "payload",
    [[], ["productId"], "productId", 42, None, True, [{"productId": {"S": "p1"}}]],
)
def test_cursor_that_is_not_an_object_is_rejected(payload):
    assert_invalid(raw_cursor(payload))


@pytest.mark.parametrize(
    "value",
    [
        "p1",
        {"N": "1"},
        {"B": "cDE="},
        {"S": 1},
        {"S": None},
        {"S": ""},
        {"S": "x" * 1025},
        {"S": "p1", "N": "1"},
        {"SS": ["p1"]},
        ["p1"],
    ],
)
def test_cursor_key_values_must_be_short_nonempty_strings(value):
    assert_invalid(raw_cursor({"productId": value}))


def test_cursor_key_value_of_1024_characters_is_accepted():
    key = {"productId": {"S": "x" * 1024}}
    assert decode_cursor(encode_cursor(key), PRODUCT_KEY) == key


def test_cursor_for_another_users_orders_is_rejected_by_fixed():
    key = {"orderId": {"S": "o"}, "userId": {"S": "bob"}, "createdAt": {"S": "c"}}
    cursor = encode_cursor(key, ORDER_KEY, {"userId": "bob"})
    assert decode_cursor(cursor, ORDER_KEY, fixed={"userId": "bob"}) == key
    assert_invalid(cursor, ORDER_KEY, fixed={"userId": "alice"})


def test_a_cursor_longer_than_the_limit_is_rejected_before_decoding():
    assert_invalid("A" * (MAX_CURSOR_LENGTH + 1))


# --- only what the server sealed opens (issue #23 item 1) ------------------------------------


def test_a_well_formed_key_the_server_did_not_issue_is_rejected():
    # Exactly what encode_cursor used to write: valid JSON, right key names, but no tag.
    assert_invalid(raw_cursor({"productId": {"S": "p1"}}))


@pytest.mark.parametrize("depth", [900, 1200, 5000])
def test_deeply_nested_json_is_a_400_not_a_recursion_error(depth):
    assert_invalid(raw_cursor("[" * depth))


def test_a_sealed_cursor_opens_only_for_its_own_listing():
    cursor = encode_cursor({"productId": {"S": "p1"}})
    assert_invalid(cursor, {"pk"})
    with pytest.raises(ValidationError):
        unseal(cursor, "another listing")


def test_flipping_any_byte_of_a_sealed_cursor_is_rejected():
    cursor = encode_cursor({"productId": {"S": "p1"}})
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for index in range(len(raw)):
        tampered = bytearray(raw)
        tampered[index] ^= 1
        assert_invalid(base64.urlsafe_b64encode(bytes(tampered)).decode().rstrip("="))


def test_seal_round_trips_any_json_value_for_its_context():
    value = [{"k": {"S": "x"}}, "done", None]
    assert unseal(seal(value, "ctx"), "ctx") == value


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "a",
        "not a cursor",
        "é",
        "%7B%7D",
        "A" * 5000,
        raw_cursor("not json"),
        raw_cursor('{"productId": {"S": "p1"}'),  # truncated JSON
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),  # not UTF-8
        raw_cursor('{"productId": {"S": NaN}}'),
    ],
)
def test_cursor_that_is_not_base64_json_is_rejected(cursor):
    assert_invalid(cursor)


def test_truncated_real_cursor_is_rejected():
    cursor = encode_cursor({"productId": {"S": "0b7c2a9e-5a1c-4c4e-9d7e-0b9f7a1c2d3e"}})
    assert_invalid(cursor[: len(cursor) // 2])


# --- paginate --------------------------------------------------------------------------------


class FakeResults:
    """Mimics PynamoDB's ResultIterator for one page-sized read (no more pages)."""

    def __init__(self, keys: list[str]) -> None:
        self._keys = keys
        self._index = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self._index == len(self._keys):
            raise StopIteration
        self._index += 1
        return self._keys[self._index - 1]

    @property
    def last_evaluated_key(self) -> dict[str, dict[str, str]] | None:
        if self._index == 0:
            return None
        return {"productId": {"S": self._keys[self._index - 1]}}


class FakeTable:
    def __init__(self, keys: list[str]) -> None:
        self.keys = sorted(keys)
        self.calls: list[dict[str, Any]] = []

    def scan(self, **kwargs: Any) -> FakeResults:
        self.calls.append(kwargs)
        start = kwargs["last_evaluated_key"]
        remaining = [k for k in self.keys if start is None or k > start["productId"]["S"]]
        return FakeResults(remaining[: kwargs["limit"]])


def test_paginate_reads_one_extra_item_and_resumes_after_the_last_returned():
    table = FakeTable([f"p{i}" for i in range(5)])

    items, cursor = paginate(table.scan, limit=2, cursor=None, key_names=PRODUCT_KEY)

    assert items == ["p0", "p1"]
    assert table.calls == [{"limit": 3, "page_size": 3, "last_evaluated_key": None}]
    assert decode_cursor(cursor, PRODUCT_KEY) == {"productId": {"S": "p1"}}


def test_paginate_walks_every_item_once_and_ends_with_null_cursor():
    keys = [f"p{i}" for i in range(7)]
    table = FakeTable(keys)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        items, cursor = paginate(table.scan, limit=3, cursor=cursor, key_names=PRODUCT_KEY)
        seen.extend(items)
        pages += 1
        if cursor is None:
            break
    assert seen == keys
    assert pages == 3
    assert table.calls[1]["last_evaluated_key"] == {"productId": {"S": "p2"}}


def test_exactly_full_last_page_has_null_cursor():
    table = FakeTable(["a", "b", "c", "d"])
    first, cursor = paginate(table.scan, limit=2, cursor=None, key_names=PRODUCT_KEY)
    second, end = paginate(table.scan, limit=2, cursor=cursor, key_names=PRODUCT_KEY)
    assert (first, second, end) == (["a", "b"], ["c", "d"], None)


def test_empty_table_gives_empty_page_and_null_cursor():
    assert paginate(FakeTable([]).scan, limit=20, cursor=None, key_names=PRODUCT_KEY) == ([], None)


def test_paginate_validates_the_cursor_before_reading():
    table = FakeTable(["a"])
    with pytest.raises(ValidationError):
        paginate(table.scan, limit=2, cursor="garbage!", key_names=PRODUCT_KEY)
    assert table.calls == []


class FailingResults(FakeResults):
    """PynamoDB reads lazily: DynamoDB's answer arrives on the first ``next()``."""

    def __init__(self, error: Exception) -> None:
        super().__init__([])
        self.error = error

    def __next__(self) -> str:
        raise self.error


def _failing_run(error: Exception):
    return lambda **_: FailingResults(error)


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "nope"}}, "Scan")


@pytest.mark.parametrize("error_type", [ScanError, QueryError])
def test_start_key_dynamodb_rejects_is_a_400(error_type):
    cursor = encode_cursor({"productId": {"S": "p1"}})
    error = error_type("Failed", cause=_client_error("ValidationException"))
    with pytest.raises(ValidationError) as caught:
        paginate(_failing_run(error), limit=2, cursor=cursor, key_names=PRODUCT_KEY)
    assert "cursor" in caught.value.message


def test_validation_exception_without_a_cursor_is_not_blamed_on_the_client():
    error = ScanError("Failed", cause=_client_error("ValidationException"))
    with pytest.raises(ScanError):
        paginate(_failing_run(error), limit=2, cursor=None, key_names=PRODUCT_KEY)


def test_other_dynamodb_errors_propagate_even_with_a_cursor():
    cursor = encode_cursor({"productId": {"S": "p1"}})
    error = ScanError("Failed", cause=_client_error("ProvisionedThroughputExceededException"))
    with pytest.raises(ScanError):
        paginate(_failing_run(error), limit=2, cursor=cursor, key_names=PRODUCT_KEY)
