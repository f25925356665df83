"""Discount codes through the API: admin CRUD, applying one to an order or a checkout,
every reason a code is refused (409, nothing written), the redemption given back on
cancel, and the audit entries of each admin change (issue #26)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.clock import iso_z
from tests.factories import line


def create_code(api, admin, **fields: Any) -> dict[str, Any]:
    default = {} if "amountOff" in fields else {"percentOff": 10}
    body = {"code": "save10", **default, **fields}
    body = {name: value for name, value in body.items() if value is not None}
    reply = api.post("/discounts", body, token=admin.token)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def code_of(api, admin, code: str) -> dict[str, Any]:
    reply = api.get(f"/discounts/{code}", token=admin.token)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def orders_of(api, buyer) -> list[dict[str, Any]]:
    return list(api.get("/orders", token=buyer.token).body["items"])


def audit_of(api, admin, entity: str) -> list[dict[str, Any]]:
    reply = api.get(f"/audit?entity={entity}", token=admin.token)
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


# --- admin -----------------------------------------------------------------------------


def test_an_admin_creates_a_code_normalised_and_it_reads_back(api, admin):
    created = create_code(
        api, admin, code="spring-25", minSubtotal="20", maxRedemptions=3, oncePerCustomer=True
    )

    assert created == {
        "code": "SPRING-25",
        "percentOff": 10,
        "minSubtotal": "20.00",
        "maxRedemptions": 3,
        "oncePerCustomer": True,
        "redemptions": 0,
        "retired": False,
        "version": 1,
        "createdAt": created["createdAt"],
    }
    assert code_of(api, admin, "spring-25") == created
    assert api.get("/discounts", token=admin.token).body["items"] == [created]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"code": "BOTH", "percentOff": 10, "amountOff": "5"}, 400, "ValidationError"),
        ({"code": "NONE"}, 400, "ValidationError"),
        ({"code": "a!", "percentOff": 10}, 400, "ValidationError"),
        ({"code": "PCT", "percentOff": 101}, 400, "ValidationError"),
        ({"code": "AMT", "amountOff": 5}, 400, "ValidationError"),  # a new field: strings only
        ({"code": "AMT", "amountOff": "0"}, 400, "ValidationError"),
        (
            {"code": "SCOPE", "percentOff": 5, "productIds": ["p"], "categories": ["books"]},
            400,
            "ValidationError",
        ),
        (
            {
                "code": "DATES",
                "percentOff": 5,
                "startsAt": "2030-01-02T00:00:00Z",
                "endsAt": "2030-01-01T00:00:00Z",
            },
            400,
            "ValidationError",
        ),
        ({"code": "NAIVE", "percentOff": 5, "startsAt": "2030-01-02T00:00:00"}, 400, None),
    ],
    ids=[
        "both",
        "neither",
        "bad-code",
        "over-100",
        "number",
        "zero",
        "two-scopes",
        "ends-first",
        "no-zone",
    ],
)
def test_a_bad_code_is_a_400_and_nothing_is_created(api, admin, body, status, code):
    reply = api.post("/discounts", body, token=admin.token)

    assert reply.status == status, reply.body
    assert code is None or reply.body["code"] == code
    assert api.get("/discounts", token=admin.token).body["items"] == []
    assert audit_of(api, admin, "discount") == []


def test_a_taken_code_is_a_409_and_customers_may_not_manage_codes(api, admin, customer):
    create_code(api, admin)

    again = api.post("/discounts", {"code": "SAVE10", "amountOff": "1"}, token=admin.token)
    as_customer = api.post("/discounts", {"code": "MINE", "percentOff": 99}, token=customer.token)

    assert (again.status, again.body["code"]) == (409, "DiscountCodeExists")
    assert code_of(api, admin, "SAVE10")["percentOff"] == 10
    assert as_customer.status == 403
    assert api.get("/discounts", token=customer.token).status == 403
    assert api.get("/audit", token=customer.token).status == 403


def test_changing_and_retiring_a_code_are_audited_with_only_what_changed(api, admin):
    create_code(api, admin, maxRedemptions=5, categories=["books"])

    changed = api.put(
        "/discounts/SAVE10", {"amountOff": "3.50", "maxRedemptions": None}, token=admin.token
    )
    retired = api.post("/discounts/SAVE10/retire", token=admin.token)
    twice = api.post("/discounts/SAVE10/retire", token=admin.token)

    assert changed.status == 200, changed.body
    assert changed.body["amountOff"] == "3.50"
    assert "percentOff" not in changed.body and "maxRedemptions" not in changed.body
    assert changed.body["categories"] == ["books"]
    assert changed.body["version"] == 2
    assert retired.status == 200 and retired.body["retired"] is True
    assert twice.body == retired.body  # retiring twice changes nothing
    entries = audit_of(api, admin, "discount:SAVE10")
    assert [e["action"] for e in entries] == [
        "discount.retire",
        "discount.update",
        "discount.create",
    ]
    retire, update, create = entries
    assert {e["actor"] for e in entries} == {admin.user_id}
    assert update["before"] == {"percentOff": 10, "maxRedemptions": 5}
    assert update["after"] == {"amountOff": "3.50"}
    assert retire["before"] == {} and list(retire["after"]) == ["retiredAt"]
    assert create["before"] is None and create["after"]["categories"] == ["books"]


def test_a_stale_edit_is_a_409(api, admin, monkeypatch):
    from chalicelib import discounts

    create_code(api, admin)
    real_load = discounts._load

    def load_then_someone_edits(code: str) -> Any:
        item = real_load(code)
        monkeypatch.setattr(discounts, "_load", real_load)
        assert api.put("/discounts/SAVE10", {"percentOff": 20}, token=admin.token).status == 200
        return item

    monkeypatch.setattr(discounts, "_load", load_then_someone_edits)
    reply = api.put("/discounts/SAVE10", {"percentOff": 30}, token=admin.token)

    assert (reply.status, reply.body["code"]) == (409, "ConcurrentUpdate")
    assert code_of(api, admin, "SAVE10")["percentOff"] == 20


def test_unknown_codes_are_404_and_a_page_of_codes_goes_by_cursor(api, admin):
    for code in ("AAA", "BBB", "CCC"):
        create_code(api, admin, code=code)

    first = api.get("/discounts?limit=2", token=admin.token).body
    second = api.get(f"/discounts?limit=2&cursor={first['nextCursor']}", token=admin.token).body

    assert [c["code"] for c in first["items"]] == ["AAA", "BBB"]
    assert [c["code"] for c in second["items"]] == ["CCC"] and second["nextCursor"] is None
    assert api.get("/discounts/NOPE", token=admin.token).status == 404
    assert api.get("/discounts/%21%21", token=admin.token).status == 404
    assert api.put("/discounts/NOPE", {"percentOff": 5}, token=admin.token).status == 404


# --- applying a code -------------------------------------------------------------------


def test_a_percent_code_takes_each_line_s_share_in_the_order_transaction(
    api, admin, customer, aws_calls
):
    pen = api.create_product(admin, name="Pen", price=3.33, stock=10)
    book = api.create_product(admin, name="Book", price=10.00, stock=10)
    create_code(api, admin, percentOff=15)

    aws_calls.clear()
    reply = api.order(customer, line(pen, 3), line(book), discountCode="save10")

    assert reply.status == 201, reply.body
    assert aws_calls.dynamodb() == ["BatchGetItem", "TransactWriteItems"]
    order = reply.body
    assert order["discountCode"] == "SAVE10"
    # 15% of 9.99 is 1.4985 -> 1.50 (half-even); 15% of 10.00 is 1.50.
    assert [i.get("discount") for i in order["items"]] == ["1.50", "1.50"]
    assert str(order["total"]) in ("16.99", "16.990")
    assert code_of(api, admin, "SAVE10")["redemptions"] == 1
    assert api.stock_of(pen) == 7


def test_an_amount_code_is_spread_over_the_lines_in_scope_and_never_exceeds_them(
    api, admin, customer
):
    pen = api.create_product(admin, name="Pen", price=1.00, stock=10, category="office")
    mug = api.create_product(admin, name="Mug", price=2.00, stock=10, category="office")
    book = api.create_product(admin, name="Book", price=50.00, stock=10, category="books")
    create_code(api, admin, code="TEN", amountOff="10", categories=["office"])

    order = api.place_order(customer, line(pen), line(mug), line(book), discountCode="TEN")

    discounts = {i["productId"]: i.get("discount") for i in order["items"]}
    # Only 3.00 of the office lines can come off, however large the code.
    assert discounts == {
        pen["productId"]: "1.00",
        mug["productId"]: "2.00",
        book["productId"]: None,
    }
    assert float(order["total"]) == 50.0


def test_a_checkout_applies_a_code_too(api, admin, customer, aws_calls):
    pen = api.create_product(admin, price=4.00, stock=5)
    create_code(api, admin, code="CART", amountOff="1.50")
    api.put(f"/cart/items/{pen['productId']}", {"quantity": 2}, token=customer.token)

    aws_calls.clear()
    reply = api.post("/cart/checkout", {"discountCode": "cart"}, token=customer.token)

    assert reply.status == 201, reply.body
    # The profile and cart, then the products and the code, then the one transaction.
    assert aws_calls.dynamodb() == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]
    assert reply.body["discountCode"] == "CART"
    assert reply.body["items"][0]["discount"] == "1.50"
    assert float(reply.body["total"]) == 6.5
    assert api.get("/cart", token=customer.token).body["items"] == []


def _hours(n: int) -> str:
    return iso_z(datetime.now(UTC) + timedelta(hours=n))


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        ({"code": "OTHER"}, "unknown"),
        ({"startsAt": _hours(1)}, "not-started"),
        ({"endsAt": _hours(-1), "startsAt": _hours(-2)}, "expired"),
        ({"minSubtotal": "100"}, "below-minimum"),
        ({"categories": ["garden"]}, "out-of-scope"),
        ({"productIds": ["not-in-the-order"]}, "out-of-scope"),
    ],
)
def test_a_code_that_does_not_apply_is_a_409_and_nothing_is_written(
    api, admin, customer, aws_calls, terms, reason
):
    product = api.create_product(admin, price=10, stock=3)
    create_code(api, admin, **terms)

    aws_calls.clear()
    reply = api.order(customer, line(product), discountCode="SAVE10")

    assert (reply.status, reply.body["code"]) == (409, "DiscountUnavailable"), reply.body
    assert reply.body["reason"] == reason
    assert "TransactWriteItems" not in aws_calls.dynamodb()
    assert api.stock_of(product) == 3
    assert orders_of(api, customer) == []


def test_a_retired_or_used_up_code_is_refused(api, admin, customer):
    product = api.create_product(admin, price=10, stock=5)
    create_code(api, admin, code="ONCE", maxRedemptions=1)
    create_code(api, admin, code="GONE")
    api.post("/discounts/GONE/retire", token=admin.token)

    first = api.order(customer, line(product), discountCode="ONCE")
    used_up = api.order(customer, line(product), discountCode="ONCE")
    retired = api.order(customer, line(product), discountCode="GONE")

    assert first.status == 201, first.body
    assert (used_up.status, used_up.body["reason"]) == (409, "used-up")
    assert (retired.status, retired.body["reason"]) == (409, "retired")
    assert api.stock_of(product) == 4
    assert code_of(api, admin, "ONCE")["redemptions"] == 1


def test_the_counter_refuses_in_the_transaction_what_the_read_allowed(
    api, admin, customer, monkeypatch
):
    """Two orders read the code with one redemption left: the transaction decides."""
    from chalicelib import orders

    product = api.create_product(admin, price=10, stock=5)
    create_code(api, admin, code="LAST", maxRedemptions=1)
    rival = api.register()
    real_commit = orders.commit_order

    def commit_after_a_rival(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(orders, "commit_order", real_commit)
        assert api.order(rival, line(product), discountCode="LAST").status == 201
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(orders, "commit_order", commit_after_a_rival)
    reply = api.order(customer, line(product), discountCode="LAST")

    assert (reply.status, reply.body["reason"]) == (409, "used-up"), reply.body
    assert code_of(api, admin, "LAST")["redemptions"] == 1
    assert api.stock_of(product) == 4
    assert orders_of(api, customer) == []


def test_once_per_customer_and_a_cancel_gives_the_redemption_back(api, admin, customer):
    product = api.create_product(admin, price=10, stock=5)
    create_code(api, admin, code="WELCOME", oncePerCustomer=True, maxRedemptions=10)
    other = api.register()

    first = api.place_order(customer, line(product), discountCode="WELCOME")
    again = api.order(customer, line(product), discountCode="WELCOME")
    someone_else = api.order(other, line(product), discountCode="WELCOME")

    assert (again.status, again.body["reason"]) == (409, "already-used")
    assert someone_else.status == 201
    assert code_of(api, admin, "WELCOME")["redemptions"] == 2
    assert api.stock_of(product) == 3

    cancelled = api.post(f"/orders/{first['orderId']}/cancel", token=customer.token)

    assert cancelled.status == 200, cancelled.body
    assert code_of(api, admin, "WELCOME")["redemptions"] == 1
    assert api.order(customer, line(product), discountCode="WELCOME").status == 201
    assert code_of(api, admin, "WELCOME")["redemptions"] == 2


def test_an_expired_unpaid_order_gives_its_redemption_back(api, admin, customer, monkeypatch):
    from chalicelib import payment_flow, payments
    from tests.api.test_payments import RecordingStripe

    monkeypatch.setattr(payments, "provider", lambda: RecordingStripe())
    product = api.create_product(admin, price=10, stock=5)
    create_code(api, admin, code="UNPAID", oncePerCustomer=True, maxRedemptions=1)
    order = api.place_order(customer, line(product), discountCode="UNPAID")
    assert order["status"] == "AWAITING_PAYMENT"
    assert code_of(api, admin, "UNPAID")["redemptions"] == 1

    assert payment_flow.expire_unpaid(now=datetime.now(UTC) + timedelta(hours=1)) == 1

    assert code_of(api, admin, "UNPAID")["redemptions"] == 0
    assert api.stock_of(product) == 5
    again = api.order(customer, line(product), discountCode="UNPAID")
    assert again.status == 201, again.body  # the buyer's once-per-customer use came back too


def test_a_replayed_order_that_took_the_last_redemption_is_its_replay_not_a_409(
    api, admin, customer
):
    product = api.create_product(admin, price=10, stock=5)
    create_code(api, admin, code="LAST", maxRedemptions=1)

    first = api.order(customer, line(product), discountCode="LAST", key="k-1")
    replay = api.order(customer, line(product), discountCode="LAST", key="k-1")
    other_code = api.order(customer, line(product), key="k-1")

    assert first.status == 201 and replay.status == 201, replay.body
    assert replay.body["orderId"] == first.body["orderId"]
    assert other_code.status == 422  # the key was sent with the code
    assert code_of(api, admin, "LAST")["redemptions"] == 1


@pytest.mark.parametrize("key", ["DISCOUNT#SAVE10", "CATEGORY#general"])
def test_a_code_s_or_a_counter_s_key_is_no_product(api, admin, customer, key):
    api.create_product(admin)  # the general category's counter exists
    create_code(api, admin)

    ordered = api.order(customer, line(key))
    carted = api.put(f"/cart/items/{quote(key)}", {"quantity": 1}, token=customer.token)

    assert (ordered.status, ordered.body["code"]) == (400, "ValidationError"), ordered.body
    assert ordered.body["productIds"] == [key]
    assert carted.status == 404, carted.body
    assert api.get(f"/products/{quote(key)}").status == 404


def test_a_malformed_discount_code_is_a_400(api, admin, customer):
    product = api.create_product(admin, price=10, stock=5)

    reply = api.order(customer, line(product), discountCode="no spaces!")

    assert (reply.status, reply.body["code"]) == (400, "ValidationError")
    assert reply.body["field"] == "discountCode"


# --- the audit trail -------------------------------------------------------------------


def test_product_changes_are_audited_in_their_own_transaction(api, admin, aws_calls):
    aws_calls.clear()
    product = api.create_product(admin, name="Lamp", price=12.00, stock=4)
    assert aws_calls.dynamodb().count("TransactWriteItems") == 1
    pid = product["productId"]

    api.put(f"/products/{pid}", {"price": 15, "stock": 4}, token=admin.token)
    api.delete(f"/products/{pid}", token=admin.token)

    entries = audit_of(api, admin, f"product:{pid}")
    assert [e["action"] for e in entries] == ["product.delete", "product.update", "product.create"]
    deleted, updated, created = entries
    assert created["after"]["price"] == "12.00" and created["before"] is None
    assert (updated["before"], updated["after"]) == ({"price": "12.00"}, {"price": "15.00"})
    assert deleted["after"] is None and deleted["before"]["name"] == "Lamp"
    assert all(e["actor"] == admin.user_id and e["entityId"] == pid for e in entries)


def test_the_audit_trail_filters_by_entity_and_pages_newest_first(api, admin):
    first = api.create_product(admin, name="A")
    create_code(api, admin)
    second = api.create_product(admin, name="B")

    everything = api.get("/audit?limit=2", token=admin.token).body
    rest = api.get(f"/audit?limit=2&cursor={everything['nextCursor']}", token=admin.token).body
    products = audit_of(api, admin, "product")
    one = audit_of(api, admin, f"product:{first['productId']}")
    mixed = api.get(f"/audit?entity=discount&cursor={everything['nextCursor']}", token=admin.token)

    assert [e["entity"] for e in everything["items"]] == ["product", "discount"]
    assert everything["items"][0]["entityId"] == second["productId"]
    assert [e["entityId"] for e in rest["items"]] == [first["productId"]]
    assert rest["nextCursor"] is None
    assert [e["entityId"] for e in products] == [second["productId"], first["productId"]]
    assert [e["action"] for e in one] == ["product.create"]
    assert mixed.status == 400  # a cursor only resumes its own listing


@pytest.mark.parametrize("entity", ["products", "product:", "Product", "x" * 90, "user:\u0000"])
def test_a_bad_entity_filter_is_a_400(api, admin, entity):
    reply = api.get(f"/audit?entity={quote(entity)}", token=admin.token)

    assert (reply.status, reply.body["code"]) == (400, "ValidationError"), reply.body


def test_the_api_cannot_change_or_delete_audit_entries(api, admin):
    api.create_product(admin)
    (entry,) = audit_of(api, admin, "product")

    for method in ("DELETE", "PUT", "POST"):
        reply = api.request(method, "/audit", token=admin.token)
        assert reply.status in (403, 405), (method, reply.body)
    assert api.request("DELETE", f"/audit/{entry['entryId']}", token=admin.token).status in (
        403,
        404,
    )
    assert audit_of(api, admin, "product") == [entry]


def test_promoting_an_admin_is_audited_as_the_operator(api, admin, customer):
    from chalicelib.users import promote_to_admin

    promote_to_admin(customer.email)
    promote_to_admin(customer.email)  # already an admin: nothing changes, nothing recorded

    (entry,) = audit_of(api, admin, f"user:{customer.user_id}")
    assert (entry["actor"], entry["action"]) == ("operator", "user.role")
    assert (entry["before"], entry["after"]) == ({"role": "customer"}, {"role": "admin"})
