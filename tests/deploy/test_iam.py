"""Each function's IAM policy allows every AWS call its code makes, and grants nothing else.

The flows below drive every route (error paths included), the orders stream handler, the
SNS subscriber and the sweep against moto, recording each botocore call and the function
that made it. A call
becomes the IAM accesses AWS authorizes it by (TransactWriteItems is authorized per item:
ConditionCheckItem, PutItem, UpdateItem, DeleteItem), and each access is evaluated against
the function's policy file for every AWS stage. The tests run with stage "test" resource
names; an access is rendered with the policy's stage names before it is evaluated.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from scripts.project import (
    CHALICE_DIR,
    SENDER_FUNCTIONS,
    TEMPLATE_FILE,
    aws_stages,
    function_policy,
    load_config,
    stage_environment,
)
from tests.conftest import delivered_to
from tests.factories import DELIVERY

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's
TEST_SECRET_ID = "shop/test/token-signing"
# The buyer-email flow's SES identity (and sender). A stage's identity is set at deploy time,
# so the policy files carry no SES grant: the checks add the one the deploy would add.
SENDER = "shop@example.com"
TEST_PAYMENT_SECRET_ID = "shop/test/payment"
TEST_WEBHOOK_SECRET = "whsec_test"
STREAM_FUNCTION = "publish_order_events"
FUNCTIONS = ("api_handler", "on_order_event", "republish_unannounced", STREAM_FUNCTION)
# What Lambda's event source mapping reads a DynamoDB stream with, using the function's role.
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)
STREAM_LABEL = "2026-01-01T00:00:00.000"  # a new one whenever the stream is re-enabled
# Calls that IAM does not authorize: GetCallerIdentity works even with every action denied.
NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}
TRANSACT_WRITE_ACTIONS = {
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
}
STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource"}
RESOURCE_VARIABLES = (
    "USERS_TABLE",
    "PRODUCTS_TABLE",
    "ORDERS_TABLE",
    "ORDER_EVENTS_TOPIC",
    "TOKEN_SECRET_ID",
    "PAYMENT_SECRET_ID",
)


@dataclass(frozen=True)
class Access:
    action: str
    resource: str


# --- what a call needs -------------------------------------------------------


def table_arn(table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def identity_arn(identity: str) -> str:
    return f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{identity}"


def accesses_of(service: str, operation: str, params: dict, response: dict) -> list[Access]:
    """The IAM actions and resources AWS checks for one API call."""
    if (service, operation) in NEEDS_NO_PERMISSION:
        return []
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                Access(TRANSACT_WRITE_ACTIONS[kind], table_arn(body["TableName"]))
                for item in params["TransactItems"]
                for kind, body in item.items()
            ]
        if operation == "TransactGetItems":
            return [
                Access("dynamodb:GetItem", table_arn(item["Get"]["TableName"]))
                for item in params["TransactItems"]
            ]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [Access(f"dynamodb:{operation}", table_arn(t)) for t in params["RequestItems"]]
        if "TableName" in params:
            return [
                Access(
                    f"dynamodb:{operation}",
                    table_arn(params["TableName"], params.get("IndexName")),
                )
            ]
    if (service, operation) in (("sns", "Publish"), ("sns", "PublishBatch")):
        # PublishBatch is authorized as sns:Publish.
        return [Access("sns:Publish", params["TopicArn"])]
    if (service, operation) == ("ses", "SendEmail"):
        # Authorized on the identity sent as; here the sender address is its own identity.
        return [Access("ses:SendEmail", identity_arn(params["Source"]))]
    if (service, operation) == ("secretsmanager", "GetSecretValue"):
        return [Access("secretsmanager:GetSecretValue", response.get("ARN", params["SecretId"]))]
    return [Access(f"{service}:{operation}", "*")]  # unknown: only a "*" grant would cover it


def runtime_accesses(
    function_name: str, xray: bool, stream_table: str | None = None
) -> set[Access]:
    """What the Lambda service does with the function's role, outside the function's code."""
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{function_name}"
    accesses = {
        # CloudWatch Logs names a log group ``...:log-group:<name>:*`` in its ARNs.
        Access("logs:CreateLogStream", f"{group}:*"),
        Access("logs:PutLogEvents", f"{group}:log-stream:2026/01/01/[$LATEST]0123abcd"),
    }
    if stream_table is not None:
        # The event source mapping polls the table's stream. Lambda also checks ListStreams
        # (its documented execution-role permissions); that action names no resource.
        stream = f"{table_arn(stream_table)}/stream/{STREAM_LABEL}"
        accesses |= {Access(action, stream) for action in STREAM_READ_ACTIONS}
        accesses.add(Access("dynamodb:ListStreams", "*"))
    if xray:
        accesses |= {Access("xray:PutTraceSegments", "*"), Access("xray:PutTelemetryRecords", "*")}
    return accesses


def for_stage(access: Access, stage: str) -> Access:
    """The access as it would be on ``stage``: test resource names become the stage's."""
    test_names = {
        **os.environ,
        "TOKEN_SECRET_ID": TEST_SECRET_ID,
        "PAYMENT_SECRET_ID": TEST_PAYMENT_SECRET_ID,
    }
    names = {test_names[v]: stage_environment(stage)[v] for v in RESOURCE_VARIABLES}
    pattern = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    # A name ends at "/" (index), "-" (secret suffix) or the end of the ARN.
    rendered = re.sub(f"(?<=[/:])({pattern})(?=[/-]|$)", lambda m: names[m[1]], access.resource)
    return Access(access.action, rendered)


# --- what a policy allows ----------------------------------------------------


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's matching: ``*`` is any run of characters (``/`` and ``:`` too), ``?`` any one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, value, flags) is not None


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def statements(policy: dict) -> list[dict]:
    found = policy["Statement"]
    for statement in found:
        # Anything else (NotAction, Condition, ...) would need a fuller evaluator than this one.
        assert set(statement) <= STATEMENT_KEYS, f"unsupported policy keys in {statement}"
    return found


def covers(statement: dict, access: Access) -> bool:
    return any(
        wildcard_match(a, access.action, ignore_case=True) for a in as_list(statement["Action"])
    ) and any(wildcard_match(r, access.resource) for r in as_list(statement["Resource"]))


def allows(policy: dict, access: Access) -> bool:
    matching = [s for s in statements(policy) if covers(s, access)]
    return any(s["Effect"] == "Allow" for s in matching) and not any(
        s["Effect"] == "Deny" for s in matching
    )


def unused_grants(policy: dict, accesses: set[Access]) -> list[str]:
    unused = []
    for statement in statements(policy):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            if "*" in action or "?" in action:
                unused.append(f"{action}: a wildcard grants actions nobody uses")
                continue
            for resource in as_list(statement["Resource"]):
                grant = {"Action": action, "Resource": resource}
                if not any(covers(grant, access) for access in accesses):
                    unused.append(f"{action} on {resource}")
    return unused


def probes_beyond(access: Access, stage: str, own_names: set[str]) -> set[Access]:
    """Resources like ``access``'s but not this function's: other names, stages, indexes."""
    app = load_config()["app_name"]
    others = [s for s in load_config()["stages"] if s != stage] + ["test"]
    resources = {access.resource.replace(name, f"{name}-other") for name in own_names}
    for other in others:
        swapped = access.resource.replace(f"{app}-{stage}", f"{app}-{other}")
        resources.add(swapped.replace(f"{app}/{stage}/", f"{app}/{other}/"))
    table, _, index = access.resource.partition("/index/")
    if ":table/" in table and "/stream/" not in table:
        resources.add(f"{table}/index/other")
        if index:
            resources.add(f"{table}/index/{index}-other")
    return {Access(access.action, r) for r in resources - {access.resource}}


def overreaching_grants(
    policy: dict, accesses: set[Access], own_names: set[str], stage: str
) -> list[str]:
    probes = set().union(*(probes_beyond(a, stage, own_names) for a in accesses))
    return sorted(
        f"{probe.action} on {probe.resource}" for probe in probes if allows(policy, probe)
    )


def test_the_matcher_follows_iam_wildcards():
    assert wildcard_match("arn:aws:dynamodb:*:*:table/t", "arn:aws:dynamodb:r:1:table/t")
    assert not wildcard_match("arn:aws:dynamodb:*:*:table/t", "arn:aws:dynamodb:r:1:table/t2")
    assert not wildcard_match(
        "arn:aws:dynamodb:*:*:table/t", "arn:aws:dynamodb:r:1:table/t/index/i"
    )
    assert wildcard_match("secret:n-??????", "secret:n-AbC123")
    assert not wildcard_match("secret:n-??????", "secret:n-AbC1234")
    assert wildcard_match("dynamodb:getitem", "dynamodb:GetItem", ignore_case=True)
    assert not wildcard_match("a[b]", "ab")  # no character classes in IAM
    deny = {
        "Statement": [
            {"Effect": "Allow", "Action": "s:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s:B", "Resource": "*"},
        ]
    }
    assert allows(deny, Access("s:A", "x"))
    assert not allows(deny, Access("s:B", "x"))


# --- recording the flows -----------------------------------------------------


class Recorder:
    """Every botocore call, attributed to the function being exercised."""

    def __init__(self) -> None:
        self.function: str | None = None
        self.accesses: dict[str, set[Access]] = defaultdict(set)
        self.free_calls: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.published: list[dict] = []

    @contextmanager
    def running(self, function: str) -> Iterator[None]:
        self.function = function
        try:
            yield
        finally:
            self.function = None

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def recording(client: Any, operation: str, params: dict) -> Any:
            response: dict = {}
            try:
                response = original(client, operation, params)
                return response
            finally:
                if self.function is not None:  # set-up calls made by the test itself
                    service = client.meta.service_model.service_name
                    found = accesses_of(service, operation, params, response)
                    self.accesses[self.function].update(found)
                    if (service, operation) in NEEDS_NO_PERMISSION:
                        self.free_calls[self.function].add((service, operation))
                    if (service, operation) == ("sns", "PublishBatch"):
                        for entry in params["PublishBatchRequestEntries"]:
                            self.published.append(json.loads(delivered_to(entry, "lambda")))

        return recording


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


class Flows:
    """The app driven as API Gateway, SNS and EventBridge would, one function at a time."""

    def __init__(self, client: Any, recorder: Recorder) -> None:
        self.client = client
        self.recorder = recorder
        self.routes: set[tuple[str, str]] = set()

    def call(
        self,
        expect: int,
        method: str,
        route: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **path: str,
    ) -> Reply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        url = route.format(**path)
        with self.recorder.running("api_handler"):
            response = self.client.http.request(
                method, url, body=json.dumps(body) if body is not None else b"", headers=sent
            )
        reply = Reply(
            response.status_code,
            json.loads(response.body) if response.body else None,
            dict(response.headers),
        )
        assert reply.status == expect, (method, url, reply.body)
        self.routes.add((method, route.split("?")[0]))
        return reply

    def login(self, email: str, password: str) -> tuple[str, str]:
        body = self.call(200, "POST", "/users/login", {"email": email, "password": password}).body
        return body["userId"], body["token"]

    def page(self, route: str, **path: str) -> None:
        """Fetch one of the web page's files (HTML/CSS/JS: not JSON)."""
        with self.recorder.running("api_handler"):
            response = self.client.http.request("GET", route.format(**path))
        assert response.status_code == 200, route
        self.routes.add(("GET", route))

    def deliver(self, message: dict | str) -> None:
        raw = message if isinstance(message, str) else json.dumps(message)
        event = self.client.events.generate_sns_event(message=raw)
        with self.recorder.running("on_order_event"):
            self.client.lambda_.invoke("on_order_event", event)

    def stream(self, stream_arn: str) -> None:
        """What the event source mapping does: only the handler's own calls are the code's."""
        from devstack.streams import StreamPoller

        def invoke(event: dict, context: Any) -> None:
            with self.recorder.running(STREAM_FUNCTION):
                self.client.lambda_.invoke(STREAM_FUNCTION, event)

        StreamPoller(invoke, stream_arn, STREAM_FUNCTION, region=REGION).drain()

    def sweep(self) -> None:
        event = self.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        with self.recorder.running("republish_unannounced"):
            self.client.lambda_.invoke("republish_unannounced", event)


def refresh_settings() -> None:
    """Re-read the environment (chalicelib reads it once) outside any Chalice call."""
    from chalicelib.config import get_settings
    from chalicelib.payments import provider
    from chalicelib.signing_keys import keys

    get_settings.cache_clear()
    get_settings()
    keys.clear()
    provider.cache_clear()


def exercise_api(flows: Flows) -> dict[str, str]:
    """Every route, with the error paths that reach DynamoDB differently."""
    from chalicelib.users import ensure_admin

    ensure_admin("admin@example.com", "admin-password")  # operator seeding, not a function
    call = flows.call
    call(200, "GET", "/openapi.json")
    _, admin = flows.login("admin@example.com", "admin-password")
    alice_body = {"email": "alice@example.com", "name": "Alice", "password": "alice-password"}
    alice_id = call(201, "POST", "/users/register", alice_body).body["userId"]
    call(409, "POST", "/users/register", alice_body)
    bob_body = {"email": "bob@example.com", "name": "Bob", "password": "bob-password"}
    bob_id = call(201, "POST", "/users/register", bob_body).body["userId"]
    _, alice = flows.login("alice@example.com", "alice-password")
    _, bob = flows.login("bob@example.com", "bob-password")
    call(401, "POST", "/users/login", {"email": "alice@example.com", "password": "wrong-pass"})
    call(401, "POST", "/users/login", {"email": "nobody@example.com", "password": "whatever1"})

    call(200, "GET", "/users?limit=1", token=admin)
    call(403, "GET", "/users", token=alice)
    call(200, "GET", "/users/{userId}", token=alice, userId=alice_id)
    call(200, "GET", "/users/{userId}", token=admin, userId=bob_id)
    call(404, "GET", "/users/{userId}", token=admin, userId="no-such-user")
    call(200, "PUT", "/users/{userId}", {"name": "Alice A."}, token=alice, userId=alice_id)
    wrong = {"password": "new-alice-password", "currentPassword": "not-it"}
    call(401, "PUT", "/users/{userId}", wrong, token=alice, userId=alice_id)
    right = {"password": "new-alice-password", "currentPassword": "alice-password"}
    call(200, "PUT", "/users/{userId}", right, token=alice, userId=alice_id)
    call(401, "GET", "/users/{userId}", token=alice, userId=alice_id)  # revoked
    _, alice = flows.login("alice@example.com", "new-alice-password")

    lamp = call(
        201, "POST", "/products", {"name": "Lamp", "price": "12.5", "stock": 5}, token=admin
    )
    mug = call(201, "POST", "/products", {"name": "Mug", "price": "3", "stock": 1}, token=admin)
    lamp_id, mug_id = lamp.body["productId"], mug.body["productId"]
    call(403, "POST", "/products", {"name": "X", "price": "1"}, token=alice)
    page = call(200, "GET", "/products?limit=1").body
    call(200, "GET", f"/products?limit=1&cursor={page['nextCursor']}")
    call(200, "GET", "/products/{productId}", productId=lamp_id)
    call(404, "GET", "/products/{productId}", productId="no-such-product")
    call(200, "PUT", "/products/{productId}", {"price": "13"}, token=admin, productId=lamp_id)
    call(404, "PUT", "/products/{productId}", {"price": "1"}, token=admin, productId="nope")
    book = {"name": "Atlas", "price": "20", "stock": 3, "category": "books"}
    book_id = call(201, "POST", "/products", book, token=admin).body["productId"]
    call(200, "PUT", "/products/{productId}", {"category": "maps"}, token=admin, productId=book_id)
    call(200, "GET", "/products?category=maps&q=at")
    call(200, "GET", "/categories")

    call(200, "GET", "/cart", token=alice)
    line = {"quantity": 1}
    call(200, "PUT", "/cart/items/{productId}", line, token=alice, productId=book_id)
    call(404, "PUT", "/cart/items/{productId}", line, token=alice, productId="nope")
    call(200, "GET", "/cart", token=alice)
    call(200, "DELETE", "/cart/items/{productId}", token=alice, productId=book_id)
    call(409, "POST", "/cart/checkout", token=alice)
    call(200, "PUT", "/cart/items/{productId}", line, token=alice, productId=book_id)
    call(204, "DELETE", "/cart", token=alice)
    call(200, "PUT", "/cart/items/{productId}", line, token=alice, productId=book_id)
    checkout_key = {"Idempotency-Key": "cart-1"}
    shipped = call(201, "POST", "/cart/checkout", DELIVERY, token=alice, headers=checkout_key).body
    call(201, "POST", "/cart/checkout", DELIVERY, token=alice, headers=checkout_key)
    call(409, "POST", "/orders/{orderId}/ship", token=admin, orderId=shipped["orderId"])
    call(403, "POST", "/orders/{orderId}/ship", token=alice, orderId=shipped["orderId"])
    call(404, "POST", "/orders/{orderId}/deliver", token=admin, orderId="no-such-order")
    call(200, "GET", "/orders?status=PENDING", token=admin)
    call(204, "DELETE", "/products/{productId}", token=admin, productId=book_id)

    key = {"Idempotency-Key": "order-1"}
    two_lamps = {"items": [{"productId": lamp_id, "quantity": 2}], **DELIVERY}
    call(200, "GET", "/shipping/options?country=US&subtotal=20.00")
    # No address typed in: the address book is read with the products (none here: a 400).
    call(400, "POST", "/orders", {"items": [{"productId": lamp_id, "quantity": 2}]}, token=alice)
    order = call(201, "POST", "/orders", two_lamps, token=alice, headers=key).body
    replay = call(201, "POST", "/orders", two_lamps, token=alice, headers=key)
    assert replay.body["orderId"] == order["orderId"]
    assert replay.headers.get("Idempotent-Replayed") == "true"
    too_many = {"items": [{"productId": mug_id, "quantity": 2}], **DELIVERY}
    assert call(409, "POST", "/orders", too_many, token=alice).body["code"] == "InsufficientStock"
    unknown = {"items": [{"productId": "no-such-product", "quantity": 1}], **DELIVERY}
    call(400, "POST", "/orders", unknown, token=alice)
    mug_order = call(
        201, "POST", "/orders", {"items": [{"productId": mug_id, "quantity": 1}], **DELIVERY},
        token=alice,
    ).body  # fmt: skip
    pending = call(
        201, "POST", "/orders", {"items": [{"productId": lamp_id, "quantity": 1}], **DELIVERY},
        token=bob,
    ).body  # fmt: skip

    call(200, "GET", "/orders", token=alice)
    call(200, "GET", "/orders", token=admin)
    call(200, "GET", f"/orders?userId={alice_id}", token=admin)
    call(403, "GET", f"/orders?userId={alice_id}", token=bob)
    call(200, "GET", "/orders/{orderId}", token=alice, orderId=order["orderId"])
    call(404, "GET", "/orders/{orderId}", token=bob, orderId=order["orderId"])
    call(200, "POST", "/orders/{orderId}/cancel", token=alice, orderId=order["orderId"])
    call(409, "POST", "/orders/{orderId}/cancel", token=alice, orderId=order["orderId"])
    call(204, "DELETE", "/products/{productId}", token=admin, productId=mug_id)
    call(404, "DELETE", "/products/{productId}", token=admin, productId=mug_id)
    # The product is gone: the cancellation restores no stock for it.
    call(200, "POST", "/orders/{orderId}/cancel", token=admin, orderId=mug_order["orderId"])

    home = {"name": "Bob", "line1": "1 Main St", "city": "Paris", "postalCode": "75001",
            "country": "FR"}  # fmt: skip
    addresses = "/users/{userId}/addresses"
    address = call(201, "POST", addresses, home, token=bob, userId=bob_id).body
    call(200, "GET", addresses, token=admin, userId=bob_id)
    call(404, "GET", addresses, token=admin, userId="no-such-user")
    call(404, "POST", addresses, home, token=admin, userId="no-such-user")
    one = "/users/{userId}/addresses/{addressId}"
    change = {"city": "Lyon", "postalCode": "69001"}
    call(200, "PUT", one, change, token=bob, userId=bob_id, addressId=address["addressId"])
    call(201, "POST", addresses, {**home, "isDefault": True}, token=bob, userId=bob_id)
    call(204, "DELETE", one, token=bob, userId=bob_id, addressId=address["addressId"])
    # Discount codes (products table, byName) and the audit trail (users table, audit index).
    code = {"code": "iam10", "percentOff": 10, "oncePerCustomer": True}
    call(201, "POST", "/discounts", code, token=admin)
    call(200, "GET", "/discounts", token=admin)
    call(200, "PUT", "/discounts/{code}", {"maxRedemptions": 5}, token=admin, code="IAM10")
    with_code = {
        "items": [{"productId": lamp_id, "quantity": 1}],
        "discountCode": "iam10",
        **DELIVERY,
    }
    coded = call(201, "POST", "/orders", with_code, token=alice).body
    assert call(409, "POST", "/orders", with_code, token=alice).body["reason"] == "already-used"
    call(200, "POST", "/orders/{orderId}/cancel", token=alice, orderId=coded["orderId"])
    call(200, "POST", "/discounts/{code}/retire", token=admin, code="IAM10")
    call(200, "GET", "/discounts/{code}", token=admin, code="IAM10")
    call(200, "GET", "/audit?entity=discount", token=admin)

    call(204, "DELETE", "/users/{userId}", token=bob, userId=bob_id)  # the book goes too
    call(401, "GET", "/orders", token=bob)
    return {
        "cancelled": order["orderId"],
        "pending": pending["orderId"],
        "checked_out": shipped["orderId"],
    }


def exercise_subscriber(flows: Flows, orders: dict[str, str], stream_arn: str) -> None:
    by_type = {(m["type"], m["orderId"]): m for m in flows.recorder.published}
    placed = by_type[("OrderPlaced", orders["pending"])]
    flows.deliver(placed)  # confirms
    flows.deliver(placed)  # duplicate: the conditional update fails, nothing changes
    flows.deliver(by_type[("OrderCancelled", orders["cancelled"])])  # acknowledges
    # Fulfilment of the checked-out order: confirmed by the subscriber, then the admin steps.
    flows.deliver(by_type[("OrderPlaced", orders["checked_out"])])
    _, admin = flows.login("admin@example.com", "admin-password")
    for step in ("ship", "deliver"):
        path = "/orders/{orderId}/" + step
        flows.call(200, "POST", path, token=admin, orderId=orders["checked_out"])
    flows.stream(stream_arn)  # the orders stream announces both steps
    by_type = {(m["type"], m["orderId"]): m for m in flows.recorder.published}
    for event_type in ("OrderShipped", "OrderDelivered"):
        flows.deliver(by_type[(event_type, orders["checked_out"])])  # acknowledges
    flows.deliver("not json")  # dropped without an AWS call


@contextmanager
def buyer_emails_from(sender: str) -> Iterator[None]:
    """As on a stage deployed with EMAIL_SENDER: the identity verified, the sender set."""
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=sender)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMAIL_SENDER", sender)
        refresh_settings()
        yield
    refresh_settings()


def last_link(kind: str) -> str:
    """The token of the link in the last email moto's SES sent."""
    from moto.ses.models import ses_backends

    text = ses_backends[ACCOUNT][REGION].sent_messages[-1].body
    assert f"#/{kind}-" in text, text  # verify-email, reset-password
    return str(text.split("?token=", 1)[1].split()[0])


def exercise_account_links(flows: Flows) -> None:
    """Verification and password reset, with the emails they send (stage with a sender)."""
    call = flows.call
    from chalicelib import account_links

    _, alice = flows.login("alice@example.com", "new-alice-password")
    call(429, "POST", "/users/verify-email/resend", token=alice)  # registered just now
    with pytest.MonkeyPatch.context() as patch:
        a_minute_later = time.time() + account_links.LINK_COOLDOWN_SECONDS + 1
        patch.setattr(account_links, "now", lambda: a_minute_later)
        call(202, "POST", "/users/verify-email/resend", token=alice)
    call(200, "POST", "/users/verify-email", {"token": last_link("verify")})
    call(400, "POST", "/users/verify-email", {"token": "0000.unknown-secret-of-some-length"})
    call(202, "POST", "/users/forgot-password", {"email": "alice@example.com"})
    call(202, "POST", "/users/forgot-password", {"email": "nobody@example.com"})
    reset = {"token": last_link("reset"), "password": "alice-reset-password"}
    call(204, "POST", "/users/reset-password", reset)
    call(400, "POST", "/users/reset-password", reset)


def exercise_buyer_email(flows: Flows, orders: dict[str, str], stream_arn: str) -> None:
    """One email: the delivered order's event again, now that the stage sends email (to
    the buyer's address, verified first); then that order refunded and returned, and the
    buyer emailed about each step and refund."""
    by_type = {(m["type"], m["orderId"]): m for m in flows.recorder.published}
    with buyer_emails_from(SENDER):
        exercise_account_links(flows)
        # Already handled without an email: the email is claimed, the buyer read, and sent.
        delivered = by_type[("OrderDelivered", orders["checked_out"])]
        flows.deliver(delivered)
        exercise_after_sale(flows, delivered, stream_arn)


def exercise_after_sale(flows: Flows, delivered: dict, stream_arn: str) -> None:
    """A staff refund, then a return rejected, asked again, approved and received (its
    product was deleted meanwhile: nothing to restock), each event delivered."""
    call, order_id = flows.call, delivered["orderId"]
    _, alice = flows.login("alice@example.com", "alice-reset-password")
    _, admin = flows.login("admin@example.com", "admin-password")
    refund = {"amount": "0.01", "reason": "other"}
    key = {"Idempotency-Key": "refund-1"}
    call(
        201, "POST", "/orders/{orderId}/refunds", refund, token=admin, orderId=order_id, headers=key
    )
    flows.stream(stream_arn)
    product_id = delivered["items"][0]["productId"]
    lines = {"lines": [{"productId": product_id, "quantity": 1}]}
    returns = "/orders/{orderId}/returns"
    call(201, "POST", returns, lines, token=alice, orderId=order_id)
    call(200, "POST", returns + "/reject", {"reason": "Used"}, token=admin, orderId=order_id)
    call(201, "POST", returns, lines, token=alice, orderId=order_id)
    approve = {"lines": [{"productId": product_id, "restock": True}]}
    call(200, "POST", returns + "/approve", approve, token=admin, orderId=order_id)
    call(200, "POST", returns + "/receive", token=admin, orderId=order_id)
    flows.stream(stream_arn)
    for message in list(flows.recorder.published):
        if message["orderId"] == order_id and message["type"] not in ("OrderPlaced",):
            flows.deliver(message)


@contextmanager
def topic_arn_from_sts() -> Iterator[None]:
    """As deployed by ``chalice deploy``: no configured ARN, derived via GetCallerIdentity."""
    from chalicelib import publisher

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ORDER_EVENTS_TOPIC_ARN")
        publisher.topic_arn.cache_clear()
        refresh_settings()
        yield
    publisher.topic_arn.cache_clear()
    refresh_settings()


@contextmanager
def signing_key_from_secrets_manager() -> Iterator[None]:
    """As on AWS: no TOKEN_SECRET, the key is read from Secrets Manager by TOKEN_SECRET_ID."""
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=TEST_SECRET_ID, SecretString="a-signing-key-from-secrets-manager"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TOKEN_SECRET")
        patch.setenv("TOKEN_SECRET_ID", TEST_SECRET_ID)
        refresh_settings()
        yield
    refresh_settings()


@contextmanager
def stripe_payments() -> Iterator[None]:
    """A stage with PAYMENT_PROVIDER=stripe, its secrets in Secrets Manager, as on AWS.

    Stripe itself is not AWS (no IAM): a fake stands in for its HTTP calls, while the
    webhook signature is checked by the real code.
    """
    from chalicelib import payments

    class FakeStripe(payments.StripeProvider):
        created = 0

        def create_intent(self, order_id: str, user_id: str, amount: Any) -> payments.Intent:
            FakeStripe.created += 1
            intent_id = f"pi_fake{FakeStripe.created}"
            return payments.Intent(intent_id, f"{intent_id}_secret_x")

        def cancel_intent(self, intent_id: str) -> bool:
            return True

        def refund_intent(self, intent_id: str, order_id: str) -> None:
            pass

    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=TEST_PAYMENT_SECRET_ID,
        SecretString=json.dumps({"apiKey": "sk_test_x", "webhookSecret": TEST_WEBHOOK_SECRET}),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(payments, "StripeProvider", FakeStripe)
        patch.setenv("PAYMENT_PROVIDER", "stripe")
        patch.setenv("PAYMENT_SECRET_ID", TEST_PAYMENT_SECRET_ID)
        patch.setenv("PAYMENT_TIMEOUT_SECONDS", "-60")  # every order is overdue at once
        refresh_settings()
        yield
    refresh_settings()


def webhook(flows: Flows, expect: int, event_type: str, order: dict, secret: str) -> None:
    from tests.factories import payment_intent_event, stripe_signed

    payload, signature = stripe_signed(payment_intent_event(event_type, order), secret)
    headers = {"Stripe-Signature": signature}
    with flows.recorder.running("api_handler"):
        response = flows.client.http.request(
            "POST", "/payments/webhook", body=payload, headers=headers
        )
    assert response.status_code == expect, response.body
    flows.routes.add(("POST", "/payments/webhook"))


def exercise_payments(
    flows: Flows, stream_arn: str, admin_password: str = "admin-password"
) -> None:
    """Paid, failed, cancelled, expired, paid after expiry, forged: every payment path."""
    call = flows.call
    _, admin = flows.login("admin@example.com", admin_password)
    _, dave = flows.login("dave@example.com", "dave-password")
    item = call(201, "POST", "/products", {"name": "Pen", "price": "2", "stock": 9}, token=admin)
    one = {"items": [{"productId": item.body["productId"], "quantity": 1}], **DELIVERY}
    paid, failed, cancelled = (call(201, "POST", "/orders", one, token=dave).body for _ in "abc")
    webhook(flows, 200, "payment_intent.succeeded", paid, TEST_WEBHOOK_SECRET)
    webhook(flows, 200, "payment_intent.payment_failed", failed, TEST_WEBHOOK_SECRET)
    webhook(flows, 400, "payment_intent.succeeded", failed, "whsec_forged")
    call(200, "POST", "/orders/{orderId}/cancel", token=dave, orderId=cancelled["orderId"])
    overdue = call(201, "POST", "/orders", one, token=dave).body
    from chalicelib.payments import provider

    provider.cache_clear()  # the sweeper is a container of its own: it reads the secret too
    flows.sweep()  # expires it
    webhook(flows, 200, "payment_intent.succeeded", overdue, TEST_WEBHOOK_SECRET)  # refunded
    flows.stream(stream_arn)  # the orders stream announces placed, paid, cancelled, expired
    by_type = {(m["type"], m["orderId"]): m for m in flows.recorder.published}
    flows.deliver(by_type[("OrderPlaced", overdue["orderId"])])
    flows.deliver(by_type[("OrderPaid", paid["orderId"])])
    flows.deliver(by_type[("OrderExpired", overdue["orderId"])])


@dataclass
class Exercised:
    accesses: dict[str, set[Access]]
    free_calls: dict[str, set[tuple[str, str]]]
    routes: set[tuple[str, str]]


def run_all_flows() -> Exercised:
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib import publisher

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        cfn = boto3.client("cloudformation", region_name=REGION)
        cfn.create_stack(
            StackName="shop-test-resources",
            TemplateBody=TEMPLATE_FILE.read_text(),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": "test"}],
        )
        outputs = cfn.describe_stacks(StackName="shop-test-resources")["Stacks"][0]["Outputs"]
        stream_arn = next(o for o in outputs if o["OutputKey"] == "OrdersTableStreamArn")

        recorder = Recorder()
        patch.setattr(BaseClient, "_make_api_call", recorder.wrap(BaseClient._make_api_call))
        refresh_settings()
        with Client(app) as client:
            flows = Flows(client, recorder)
            orders = exercise_api(flows)
            flows.page("/")  # the page's files come from the package: no AWS call
            flows.page("/web/{asset}", asset="app.js")
            with topic_arn_from_sts():  # as `chalice deploy` deploys it
                flows.stream(stream_arn["OutputValue"])
            exercise_subscriber(flows, orders, stream_arn["OutputValue"])
            exercise_buyer_email(flows, orders, stream_arn["OutputValue"])
            flows.stream(stream_arn["OutputValue"])  # the acknowledgments: nothing to publish
            patch.setattr(publisher, "SWEEP_GRACE", timedelta(minutes=-10))  # everything is due
            flows.sweep()
            with topic_arn_from_sts():
                flows.sweep()
            carol = {"email": "carol@example.com", "name": "Carol", "password": "carol-pass"}
            flows.call(201, "POST", "/users/register", carol)
            with signing_key_from_secrets_manager():
                flows.login("carol@example.com", "carol-pass")
            dave = {"email": "dave@example.com", "name": "Dave", "password": "dave-password"}
            flows.call(201, "POST", "/users/register", dave)
            with stripe_payments():
                exercise_payments(flows, stream_arn["OutputValue"])
        return Exercised(dict(recorder.accesses), dict(recorder.free_calls), flows.routes)


@pytest.fixture(scope="module")
def exercised() -> Exercised:
    return run_all_flows()


# --- the checks --------------------------------------------------------------


def policy_of(stage: str, function: str) -> dict:
    """The function's policy as deployed with the flows' sender identity."""
    return function_policy(stage, function, SENDER)


def accesses_on(stage: str, function: str, exercised: Exercised, plan: dict) -> set[Access]:
    from_code = {for_stage(access, stage) for access in exercised.accesses.get(function, ())}
    deployed = plan[stage][function]
    stream_table = stage_environment(stage)["ORDERS_TABLE"] if function == STREAM_FUNCTION else None
    return from_code | runtime_accesses(deployed["function_name"], deployed["xray"], stream_table)


def test_the_flows_exercise_every_route(exercised):
    from app import app

    served = {(method, path) for path, entries in app.routes.items() for method in entries}
    assert served - exercised.routes == set()


def test_the_flows_exercise_every_function(exercised):
    assert set(exercised.accesses) == set(FUNCTIONS)


def test_the_topic_arn_is_derived_without_a_permission(exercised):
    # The `chalice deploy` path has no ORDER_EVENTS_TOPIC_ARN; the sweep asked STS instead.
    assert exercised.free_calls["republish_unannounced"] == {("sts", "GetCallerIdentity")}
    assert exercised.free_calls[STREAM_FUNCTION] == {("sts", "GetCallerIdentity")}


def test_only_the_stream_handler_and_the_sweep_publish(exercised):
    publishers = {
        function
        for function, accesses in exercised.accesses.items()
        if any(access.action == "sns:Publish" for access in accesses)
    }
    assert publishers == {STREAM_FUNCTION, "republish_unannounced"}


def test_only_the_senders_send_email_and_only_as_the_identity(exercised):
    ses = {
        function: {a for a in accesses if a.action.startswith("ses:")}
        for function, accesses in exercised.accesses.items()
    }
    # The subscriber emails buyers; the API emails verification and password-reset links.
    assert {f: a for f, a in ses.items() if a} == {
        function: {Access("ses:SendEmail", identity_arn(SENDER))} for function in SENDER_FUNCTIONS
    }
    # The buyer's address comes from their profile.
    users = table_arn(os.environ["USERS_TABLE"])
    assert Access("dynamodb:GetItem", users) in exercised.accesses["on_order_event"]


@pytest.mark.parametrize("stage", aws_stages())
def test_a_sender_identity_grants_send_email_on_that_identity_only(stage):
    for function in FUNCTIONS:
        actions = [
            a for s in statements(function_policy(stage, function)) for a in as_list(s["Action"])
        ]
        assert not [a for a in actions if a.startswith("ses:")]
    for sender in SENDER_FUNCTIONS:
        policy = function_policy(stage, sender, "example.org")
        assert allows(policy, Access("ses:SendEmail", identity_arn("example.org")))
        for other in ("example.com", "example.org.evil", "shop@example.org"):
            assert not allows(policy, Access("ses:SendEmail", identity_arn(other)))
        assert not allows(policy, Access("ses:SendRawEmail", identity_arn("example.org")))
    for function in set(FUNCTIONS) - set(SENDER_FUNCTIONS):
        assert function_policy(stage, function, "example.org") == function_policy(stage, function)


@pytest.mark.parametrize("stage", aws_stages())
def test_chalice_gives_each_function_its_own_policy_file(chalice_plan, stage):
    assert load_config()["autogen_policy"] is False  # else iam_policy_file is ignored
    assert set(chalice_plan[stage]) == set(FUNCTIONS)
    lambda_functions = load_config()["stages"][stage]["lambda_functions"]
    used = {f: Path(chalice_plan[stage][f]["policy_file"]).resolve() for f in FUNCTIONS}
    assert used == {f: CHALICE_DIR / lambda_functions[f]["iam_policy_file"] for f in FUNCTIONS}
    assert len(set(used.values())) == len(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("stage", aws_stages())
def test_policy_allows_every_call_the_function_makes(exercised, chalice_plan, stage, function):
    policy = policy_of(stage, function)
    accesses = accesses_on(stage, function, exercised, chalice_plan)
    denied = sorted(f"{a.action} on {a.resource}" for a in accesses if not allows(policy, a))
    assert denied == []


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("stage", aws_stages())
def test_policy_reaches_no_resource_beyond_the_functions_own(
    exercised, chalice_plan, stage, function
):
    policy = policy_of(stage, function)
    accesses = accesses_on(stage, function, exercised, chalice_plan)
    environment = stage_environment(stage)
    own_names = {environment[name] for name in RESOURCE_VARIABLES} | {
        deployed["function_name"] for deployed in chalice_plan[stage].values()
    }
    own_names.add(SENDER)
    assert overreaching_grants(policy, accesses, own_names, stage) == []


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("stage", aws_stages())
def test_policy_grants_nothing_the_function_does_not_use(exercised, chalice_plan, stage, function):
    policy = policy_of(stage, function)
    accesses = accesses_on(stage, function, exercised, chalice_plan)
    assert unused_grants(policy, accesses) == []


# --- generating the policy files (make policies) ------------------------------

WRITE_POLICIES = "WRITE_POLICIES"  # set to 1 by `make policies`: write instead of compare
ARN = re.compile(r"arn:aws:(?P<service>[a-z0-9-]+):[^:]*:[^:]*:(?P<rest>.+)")


def camel(name: str) -> str:
    return "".join(part[0].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def grant_of(access: Access, stage: str) -> tuple[str, str]:
    """The policy resource that grants ``access`` on any account and region, and its Sid."""
    if access.resource == "*":
        service = access.action.split(":")[0]
        return "*", "XRayTracing" if service == "xray" else f"{camel(service)}AnyResource"
    match = ARN.fullmatch(access.resource)
    assert match, f"not an ARN: {access.resource}"
    service, rest = match["service"], match["rest"]
    prefix = f"{load_config()['app_name']}-{stage}-"
    if service == "dynamodb" and "/stream/" in rest:
        # A stream's label changes whenever it is re-enabled: any stream of the table.
        table = rest.removeprefix("table/").split("/stream/")[0]
        rest, sid = f"table/{table}/stream/*", camel(table.removeprefix(prefix)) + "Stream"
    elif service == "dynamodb":
        table, _, index = rest.removeprefix("table/").partition("/index/")
        sid = camel(table.removeprefix(prefix)) + (camel(index) + "Index" if index else "Table")
    elif service == "sns":
        sid = camel(rest.removeprefix(prefix)) + "Topic"
    elif service == "secretsmanager":
        # Secrets Manager appends "-" and six random characters to a secret's name.
        rest = re.sub(r"-[A-Za-z0-9]{6}$", "-??????", rest)
        sid = camel(rest.removeprefix("secret:").split("/")[-1].removesuffix("-??????")) + "Secret"
    elif service == "logs":
        group = rest.removeprefix("log-group:").split(":")[0]
        rest, sid = f"log-group:{group}:*", "OwnLogGroup"
    else:
        sid = camel(service) + camel(rest)
    return f"arn:aws:{service}:*:*:{rest}", sid


def generated_policy(accesses: set[Access], stage: str) -> dict:
    """One statement per resource, with exactly the actions used on it."""
    by_resource: dict[tuple[str, str], set[str]] = defaultdict(set)
    for access in accesses:
        by_resource[grant_of(access, stage)].add(access.action)
    statements = [
        {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resource}
        for (resource, sid), actions in sorted(
            by_resource.items(), key=lambda item: (item[0][0] == "*", item[0])
        )
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def generated_policies(exercised: Exercised, plan: dict) -> dict[Path, dict]:
    """Every policy file config.json names, as the traced calls say it should be."""
    generated = {}
    for stage in aws_stages():
        lambda_functions = load_config()["stages"][stage]["lambda_functions"]
        for function in FUNCTIONS:
            path = CHALICE_DIR / lambda_functions[function]["iam_policy_file"]
            accesses = accesses_on(stage, function, exercised, plan)
            # The SES grant comes from the stage's identity at deploy time, not from the file.
            generated[path] = generated_policy(
                {a for a in accesses if not a.action.startswith("ses:")}, stage
            )
    return generated


def policy_text(policy: dict) -> str:
    return json.dumps(policy, indent=2) + "\n"


def test_committed_policy_files_are_generated(exercised, chalice_plan):
    """A new AWS call can't ship without its grant, and an unused grant can't linger."""
    generated = generated_policies(exercised, chalice_plan)
    if os.environ.get(WRITE_POLICIES) == "1":
        for path, policy in generated.items():
            path.write_text(policy_text(policy))
    stale = sorted(
        path.name
        for path, policy in generated.items()
        if not path.exists() or path.read_text() != policy_text(policy)
    )
    assert stale == [], "the policy files differ from the calls the code makes: run make policies"
    committed = {path.name for path in CHALICE_DIR.glob("policy-*.json")}
    assert committed == {path.name for path in generated}  # no policy file nobody uses


def test_a_policy_is_generated_from_the_calls_alone():
    secret = "arn:aws:secretsmanager:us-east-1:1:secret:shop/dev/token-signing-AbC123"
    accesses = {
        Access("dynamodb:Query", table_arn("shop-dev-orders", "byUser")),
        Access("dynamodb:PutItem", table_arn("shop-dev-orders")),
        Access("dynamodb:GetItem", table_arn("shop-dev-orders")),
        Access("secretsmanager:GetSecretValue", secret),
        Access("xray:PutTraceSegments", "*"),
    }
    assert generated_policy(accesses, "dev")["Statement"] == [
        {
            "Sid": "OrdersTable",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
            "Resource": "arn:aws:dynamodb:*:*:table/shop-dev-orders",
        },
        {
            "Sid": "OrdersByUserIndex",
            "Effect": "Allow",
            "Action": ["dynamodb:Query"],
            "Resource": "arn:aws:dynamodb:*:*:table/shop-dev-orders/index/byUser",
        },
        {
            "Sid": "TokenSigningSecret",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": "arn:aws:secretsmanager:*:*:secret:shop/dev/token-signing-??????",
        },
        {
            "Sid": "XRayTracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments"],
            "Resource": "*",
        },
    ]
