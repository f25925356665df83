"""The address book through the HTTP API: list, add, change, delete, the default, the
limit, who may see it, concurrent edits, and its AWS calls."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from chalicelib import addresses
from chalicelib.models import AddressBook, UserRecord
from chalicelib.schemas import MAX_ADDRESSES
from tests.api.conftest import remembered_password_hashing
from tests.api.test_products import assert_error
from tests.factories import Account, an_address


@pytest.fixture
def customer(api) -> Account:
    """A customer whose address book is empty (the shared fixture's has a default address)."""
    with remembered_password_hashing():
        return api.register()


@pytest.fixture
def admin(admin: Account) -> Account:
    AddressBook(AddressBook.key_for(admin.user_id)).delete(add_version_condition=False)  # its book
    return admin


def path(account: Account | str, address_id: str | None = None) -> str:
    user_id = account if isinstance(account, str) else account.user_id
    base = f"/users/{user_id}/addresses"
    return base if address_id is None else f"{base}/{address_id}"


def listed(api, account: Account, token: str | None = None) -> list[dict[str, Any]]:
    reply = api.get(path(account), token=token or account.token)
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


def raw_book(user_id: str) -> dict[str, Any] | None:
    """The address book exactly as DynamoDB holds it, bypassing PynamoDB."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    reply = client.get_item(
        TableName=AddressBook.Meta.table_name,
        Key={"pk": {"S": AddressBook.key_for(user_id)}},
        ConsistentRead=True,
    )
    return reply.get("Item")


def fill(api, account: Account, count: int) -> list[dict[str, Any]]:
    return [api.add_address(account, line1=f"{n} Main Street") for n in range(1, count + 1)]


# --- add and list ------------------------------------------------------------------------------


def test_the_first_address_is_the_default_and_is_stored_normalised(api, customer, aws_calls):
    aws_calls.clear()
    reply = api.post(
        path(customer),
        an_address(name=" Ada ", region="il", postalCode="62701 1234", country="us", line2=""),
        token=customer.token,
    )
    assert reply.status == 201, reply.body
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    added = reply.body
    assert added == {
        "addressId": added["addressId"],
        "name": "Ada",
        "line1": "1 Main Street",
        "city": "Springfield",
        "region": "IL",
        "postalCode": "62701-1234",
        "country": "US",
        "isDefault": True,
    }
    aws_calls.clear()
    assert listed(api, customer) == [added]
    assert aws_calls.dynamodb() == ["BatchGetItem"]


def test_a_change_or_a_deletion_is_one_read_and_one_transaction(api, customer, aws_calls):
    home = api.add_address(customer)
    where = path(customer, home["addressId"])
    aws_calls.clear()
    assert api.put(where, {"city": "Chicago"}, token=customer.token).status == 200
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    aws_calls.clear()
    assert api.delete(where, token=customer.token).status == 204
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    aws_calls.clear()
    assert_error(api.delete(where, token=customer.token), 404)
    assert aws_calls.dynamodb() == ["BatchGetItem"]  # nothing to write


def test_an_empty_book_lists_nothing(api, customer):
    assert listed(api, customer) == []


def test_is_default_moves_the_default_and_the_list_shows_it_first(api, customer):
    first, second = fill(api, customer, 2)
    assert (first["isDefault"], second["isDefault"]) == (True, False)
    third = api.add_address(customer, line1="3 Main Street", isDefault=True)
    assert third["isDefault"] is True
    assert [a["addressId"] for a in listed(api, customer)] == [
        third["addressId"],
        first["addressId"],
        second["addressId"],
    ]
    assert [a["isDefault"] for a in listed(api, customer)] == [True, False, False]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"postalCode": "6270"}, "postalCode"),
        ({"country": "XX"}, "country"),
        ({"region": None}, "region"),
        ({"country": "CA", "region": "ON", "postalCode": "62701"}, "postalCode"),
        ({"phone": "555"}, "phone"),
        ({"name": " "}, "name"),
        ({"line2": "x" * 201}, "line2"),
        ({"isDefault": "yes"}, "isDefault"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(api, customer, changes, field):
    reply = api.post(path(customer), an_address(**changes), token=customer.token)
    assert_error(reply, 400, "ValidationError")
    assert reply.body["field"] == field
    assert raw_book(customer.user_id) is None


def test_unknown_fields_and_missing_ones_are_refused(api, customer):
    reply = api.post(path(customer), an_address(floor="2"), token=customer.token)
    assert_error(reply, 400, "ValidationError", "floor")
    reply = api.post(path(customer), an_address(city=None), token=customer.token)
    assert_error(reply, 400, "ValidationError", "city")
    assert raw_book(customer.user_id) is None


def test_a_book_holds_at_most_ten_addresses(api, customer):
    fill(api, customer, MAX_ADDRESSES)
    before = raw_book(customer.user_id)
    reply = api.post(path(customer), an_address(line1="11 Main Street"), token=customer.token)
    assert_error(reply, 409, "AddressBookFull")
    assert raw_book(customer.user_id) == before
    assert len(listed(api, customer)) == MAX_ADDRESSES


# --- change --------------------------------------------------------------------------------------


def test_a_change_is_checked_as_a_whole_address(api, customer):
    home = api.add_address(customer, line2="Flat 2", phone="+1 217 555 0100")
    where = path(customer, home["addressId"])

    reply = api.put(where, {"country": "CA"}, token=customer.token)  # IL is no province
    assert_error(reply, 400, "ValidationError")
    assert reply.body["field"] == "region"
    assert listed(api, customer) == [home]

    moved = {"country": "ca", "region": "on", "postalCode": "k1a0b1", "line2": ""}
    reply = api.put(where, moved, token=customer.token)
    assert reply.status == 200, reply.body
    expected = {**home, "country": "CA", "region": "ON", "postalCode": "K1A 0B1"}
    del expected["line2"]
    assert reply.body == expected
    assert listed(api, customer) == [expected]


def test_put_makes_an_address_the_default(api, customer):
    _, second = fill(api, customer, 2)
    reply = api.put(path(customer, second["addressId"]), {"isDefault": True}, token=customer.token)
    assert reply.status == 200, reply.body
    assert reply.body == {**second, "isDefault": True}
    assert [a["addressId"] for a in listed(api, customer) if a["isDefault"]] == [
        second["addressId"]
    ]
    # Unsetting the default has no meaning: another address must become it.
    reply = api.put(path(customer, second["addressId"]), {"isDefault": False}, token=customer.token)
    assert_error(reply, 400, "ValidationError")
    assert reply.body["field"] == "isDefault"


def test_changing_an_unknown_address_is_a_404(api, customer):
    fill(api, customer, 1)
    before = raw_book(customer.user_id)
    reply = api.put(path(customer, "no-such-address"), {"city": "Paris"}, token=customer.token)
    assert_error(reply, 404, "NotFound")
    assert_error(api.put(path(customer, "x" * 100), {"city": "X"}, token=customer.token), 404)
    assert_error(api.put(path(customer, "a"), {}, token=customer.token), 400)
    assert raw_book(customer.user_id) == before


# --- delete --------------------------------------------------------------------------------------


def test_deleting_the_default_makes_the_oldest_remaining_the_default(api, customer):
    first, second, third = fill(api, customer, 3)
    api.put(path(customer, third["addressId"]), {"isDefault": True}, token=customer.token)

    reply = api.delete(path(customer, third["addressId"]), token=customer.token)
    assert reply.status == 204, reply.body
    assert listed(api, customer) == [first, second]  # first: the oldest, now the default

    assert api.delete(path(customer, second["addressId"]), token=customer.token).status == 204
    assert api.delete(path(customer, first["addressId"]), token=customer.token).status == 204
    assert listed(api, customer) == []
    again = api.add_address(customer)
    assert again["isDefault"] is True


def test_deleting_an_unknown_address_is_a_404(api, customer):
    assert_error(api.delete(path(customer, "nothing"), token=customer.token), 404, "NotFound")
    fill(api, customer, 1)
    assert_error(api.delete(path(customer, "nothing"), token=customer.token), 404, "NotFound")
    assert len(listed(api, customer)) == 1


# --- who may see it ------------------------------------------------------------------------------


def test_another_customer_gets_404_everywhere_and_changes_nothing(api, customer):
    home = api.add_address(customer)
    other = api.register()
    before = raw_book(customer.user_id)
    token = other.token
    for reply in (
        api.get(path(customer), token=token),
        api.post(path(customer), an_address(), token=token),
        api.put(path(customer, home["addressId"]), {"city": "Elsewhere"}, token=token),
        api.delete(path(customer, home["addressId"]), token=token),
    ):
        assert_error(reply, 404, "NotFound")
    assert raw_book(customer.user_id) == before
    assert listed(api, other) == []
    for reply in (api.get(path(customer)), api.post(path(customer), an_address())):
        assert_error(reply, 401, "Unauthorized")


def test_an_admin_manages_a_customers_book_but_not_an_unknown_users(api, admin, customer):
    added = api.post(path(customer), an_address(), token=admin.token)
    assert added.status == 201, added.body
    assert listed(api, customer, token=admin.token) == listed(api, customer) == [added.body]
    assert listed(api, api.register(), token=admin.token) == []

    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(api.get(path(unknown), token=admin.token), 404, "NotFound")
    assert_error(api.post(path(unknown), an_address(), token=admin.token), 404, "NotFound")
    assert raw_book(unknown) is None


def test_deleting_the_user_deletes_the_address_book(api, customer):
    fill(api, customer, 2)
    assert raw_book(customer.user_id) is not None
    assert api.delete(f"/users/{customer.user_id}", token=customer.token).status == 204
    assert raw_book(customer.user_id) is None


def test_an_address_added_while_the_user_is_deleted_leaves_no_book(api, customer, monkeypatch):
    """The user is deleted between the book's read and its write: 404, nothing stored."""
    real_save = addresses._save

    def deleted_meanwhile(book: AddressBook, read: AddressBook | None) -> None:
        for item in UserRecord.get(UserRecord.profile_key(customer.user_id)).both_items():
            item.delete()
        real_save(book, read)

    monkeypatch.setattr(addresses, "_save", deleted_meanwhile)
    assert_error(api.post(path(customer), an_address(), token=customer.token), 404, "NotFound")
    assert raw_book(customer.user_id) is None


# --- concurrent edits ----------------------------------------------------------------------------


def _racing(api, customer, monkeypatch, rival: dict[str, Any]) -> None:
    """Before this request's write, another tab adds ``rival`` (once)."""
    real_save = addresses._save

    def rival_first(book: AddressBook, read: AddressBook | None) -> None:
        monkeypatch.setattr(addresses, "_save", real_save)
        assert api.post(path(customer), rival, token=customer.token).status == 201
        real_save(book, read)

    monkeypatch.setattr(addresses, "_save", rival_first)


def test_two_adds_racing_for_the_last_place_add_exactly_one(api, customer, monkeypatch, aws_calls):
    fill(api, customer, MAX_ADDRESSES - 1)
    _racing(api, customer, monkeypatch, an_address(line1="The rival's street"))
    aws_calls.clear()

    reply = api.post(path(customer), an_address(line1="The loser's street"), token=customer.token)

    assert_error(reply, 409, "AddressBookFull")
    # The loser read (batch), the rival read and wrote, the loser's write was refused (the
    # version changed) and its second read found the book full: nothing more written.
    assert aws_calls.dynamodb() == [
        "BatchGetItem",
        "BatchGetItem",
        "TransactWriteItems",
        "TransactWriteItems",
        "GetItem",
    ]
    lines = [a["line1"] for a in listed(api, customer)]
    assert len(lines) == MAX_ADDRESSES
    assert "The rival's street" in lines and "The loser's street" not in lines


def test_two_adds_racing_below_the_limit_both_land(api, customer, monkeypatch):
    fill(api, customer, MAX_ADDRESSES - 2)
    _racing(api, customer, monkeypatch, an_address(line1="The rival's street"))

    reply = api.post(path(customer), an_address(line1="My street"), token=customer.token)

    assert reply.status == 201, reply.body
    lines = [a["line1"] for a in listed(api, customer)]
    assert len(lines) == MAX_ADDRESSES
    assert {"The rival's street", "My street"} <= set(lines)


def test_a_book_that_keeps_changing_is_a_409(api, customer, monkeypatch):
    fill(api, customer, 1)
    real_save = addresses._save

    def always_beaten(book: AddressBook, read: AddressBook | None) -> None:
        bumped = AddressBook.get(AddressBook.key_for(customer.user_id), consistent_read=True)
        bumped.save()  # a new version, as another tab's edit would make
        real_save(book, read)

    monkeypatch.setattr(addresses, "_save", always_beaten)
    reply = api.post(path(customer), an_address(), token=customer.token)
    assert_error(reply, 409, "ConcurrentUpdate")
    assert len(listed(api, customer)) == 1


def test_an_order_reads_a_stored_address_as_book_address_gives_it(api, customer):
    home = api.add_address(customer, phone="+1 217 555 0100")
    book = AddressBook.get(AddressBook.key_for(customer.user_id), consistent_read=True)
    expected = {k: v for k, v in home.items() if k not in ("addressId", "isDefault")}
    assert addresses.book_address(book, None) == expected
    assert addresses.book_address(book, home["addressId"]) == expected
