"""The address book over real HTTP against the local stack: its life, and real races."""

from __future__ import annotations

from collections import Counter

from chalicelib.schemas import MAX_ADDRESSES
from tests.e2e.concurrency import race
from tests.factories import an_address


def test_an_address_book_from_first_address_to_the_users_deletion(http, admin):
    buyer = http.register()
    book = f"/users/{buyer.user_id}/addresses"
    home = http.add_address(buyer, postalCode="62701-1234")
    work = http.add_address(buyer, line1="2 Office Park", isDefault=True)
    assert (home["isDefault"], work["isDefault"]) == (True, True)

    status, listed = http.get(book, token=buyer.token)
    assert status == 200, listed
    assert [(a["addressId"], a["isDefault"]) for a in listed["items"]] == [
        (work["addressId"], True),
        (home["addressId"], False),
    ]
    status, refused = http.put(f"{book}/{home['addressId']}", {"country": "XX"}, token=buyer.token)
    assert (status, refused["field"]) == (400, "country")
    status, _ = http.delete(f"{book}/{work['addressId']}", token=buyer.token)
    assert status == 204
    status, listed = http.get(book, token=admin)
    assert status == 200 and listed["items"] == [{**home, "isDefault": True}]

    status, _ = http.delete(f"/users/{buyer.user_id}", token=buyer.token)
    assert status == 204
    status, gone = http.get(book, token=admin)
    assert (status, gone["code"]) == (404, "NotFound")


def test_two_adds_racing_for_the_last_place_add_exactly_one(http):
    buyer = http.register()
    for n in range(MAX_ADDRESSES - 1):
        http.add_address(buyer, line1=f"{n} Main Street")
    book = f"/users/{buyer.user_id}/addresses"

    results = race(2, lambda i: http.post(book, an_address(line1=f"Racer {i}"), token=buyer.token))

    assert sorted(status for status, _ in results) == [201, 409], results
    assert [body["code"] for status, body in results if status == 409] == ["AddressBookFull"]
    status, listed = http.get(book, token=buyer.token)
    assert status == 200 and len(listed["items"]) == MAX_ADDRESSES


def test_concurrent_adds_lose_no_address(http):
    """Six tabs add at once: each address answered 201 is stored; none beyond them."""
    buyer = http.register()
    book = f"/users/{buyer.user_id}/addresses"

    results = race(6, lambda i: http.post(book, an_address(line1=f"Tab {i}"), token=buyer.token))

    outcomes = Counter("added" if status == 201 else body["code"] for status, body in results)
    assert set(outcomes) <= {"added", "ConcurrentUpdate"}, results
    added = {body["addressId"] for status, body in results if status == 201}
    status, listed = http.get(book, token=buyer.token)
    assert status == 200
    assert {a["addressId"] for a in listed["items"]} == added
    assert sum(a["isDefault"] for a in listed["items"]) == 1
