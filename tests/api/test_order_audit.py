"""The audit trail of staff actions on orders (issue #26): ship, deliver, refunds and return
decisions each write their entry in the same transaction as the change."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import subscriber
from tests.api.test_discounts import audit_of
from tests.api.test_returns import deliver
from tests.factories import line


@pytest.fixture
def products(api, admin) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        api.create_product(admin, name="Teapot", price="12.50", stock=10),
        api.create_product(admin, name="Cup", price="3.00", stock=10),
    )


def order_actions(api, admin, order_id: str) -> list[dict[str, Any]]:
    """The order's audit entries, oldest first."""
    return list(reversed(audit_of(api, admin, f"order:{order_id}")))


def test_ship_deliver_refund_and_a_return_decided_are_audited_by_who_did_them(
    api, admin, customer, products, aws_calls
):
    teapot, cup = products
    order = api.place_order(customer, line(teapot, 2), line(cup, 4))
    path = f"/orders/{order['orderId']}"
    aws_calls.clear()
    delivered = deliver(api, admin, order)
    assert delivered["status"] == "DELIVERED"
    # Each step is one transaction with its entry (after the read of order and caller).
    assert aws_calls.dynamodb().count("TransactWriteItems") == 2

    refunded = api.post(f"{path}/refunds", {"amount": "1.00", "reason": "damaged"},
                        token=admin.token, headers={"Idempotency-Key": "audit-1"})  # fmt: skip
    assert refunded.status == 201, refunded.body
    asked = api.post(f"{path}/returns", {"lines": [{"productId": cup["productId"],
                     "quantity": 1}]}, token=customer.token)  # fmt: skip
    assert asked.status == 201, asked.body
    approve = {"lines": [{"productId": cup["productId"], "restock": False}]}
    assert api.post(f"{path}/returns/approve", approve, token=admin.token).status == 200
    assert api.post(f"{path}/returns/receive", token=admin.token).status == 200

    entries = order_actions(api, admin, order["orderId"])
    assert [e["action"] for e in entries] == [
        "order.ship",
        "order.deliver",
        "refund.create",
        "return.approve",
        "return.receive",
    ]  # the buyer's own request is not a staff action
    assert all(e["actor"] == admin.user_id for e in entries)
    ship, deliver_, refund, approved, received = entries
    assert (ship["before"], ship["after"]) == ({"status": "CONFIRMED"}, {"status": "SHIPPED"})
    assert deliver_["after"] == {"status": "DELIVERED"}
    assert refund["before"] == {"amountRefunded": "0.00"}
    assert refund["after"]["amountRefunded"] == "1.00"
    assert refund["after"]["refund"]["reason"] == "damaged"
    assert approved["after"] == {"status": "RETURN_APPROVED", "restock": {cup["productId"]: False}}
    assert received["after"]["status"] == "RETURNED"
    assert (
        received["after"]["refund"]
        == api.get(path, token=admin.token).body["refunds"][-1]["amount"]
    )


def test_a_ship_with_its_parcel_and_a_rejected_return_are_audited(api, admin, customer, products):
    teapot, _ = products
    order = api.place_order(customer, line(teapot, 1))
    path = f"/orders/{order['orderId']}"

    event = json.dumps({"type": "OrderPlaced", "orderId": order["orderId"]})
    assert subscriber.handle_message(event) == "confirmed"
    parcel = {"carrier": "UPS", "trackingNumber": "1Z999"}
    assert api.post(f"{path}/ship", parcel, token=admin.token).status == 200
    assert api.post(f"{path}/deliver", token=admin.token).status == 200
    ask = {"lines": [{"productId": teapot["productId"], "quantity": 1}]}
    assert api.post(f"{path}/returns", ask, token=customer.token).status == 201
    reject = api.post(f"{path}/returns/reject", {"reason": "Used"}, token=admin.token)
    assert reject.status == 200, reject.body

    ship, _, rejected = order_actions(api, admin, order["orderId"])
    assert ship["after"] == {"status": "SHIPPED", "carrier": "UPS", "trackingNumber": "1Z999"}
    assert (rejected["action"], rejected["after"]) == (
        "return.reject",
        {"status": "DELIVERED", "rejectReason": "Used"},
    )


def test_a_failed_step_writes_no_entry(api, admin, customer, products):
    teapot, _ = products
    order = api.place_order(customer, line(teapot, 1))  # PENDING: it cannot be shipped yet
    reply = api.post(f"/orders/{order['orderId']}/ship", token=admin.token)
    assert reply.status == 409
    assert order_actions(api, admin, order["orderId"]) == []
