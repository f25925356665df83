"""What an operator sees: one JSON log line per request, EMF metrics, no secrets."""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib import observability


def _json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _emf(lines: list[dict]) -> list[dict]:
    return [line for line in lines if "_aws" in line]


@pytest.fixture
def request_log(caplog):
    caplog.set_level(logging.INFO, logger="shop.request")
    return caplog


def _request_records(caplog) -> list[dict]:
    return [r.fields for r in caplog.records if r.name == "shop.request"]


def test_one_structured_line_per_request_with_status_latency_and_user(api, admin, request_log):
    request_log.clear()
    reply = api.get(f"/users/{admin.user_id}", token=admin.token)
    assert reply.status == 200
    [fields] = _request_records(request_log)
    assert fields["route"] == "/users/{userId}"
    assert fields["method"] == "GET"
    assert fields["status"] == 200
    assert fields["userId"] == admin.user_id
    assert isinstance(fields["latencyMs"], float) and fields["latencyMs"] >= 0
    assert fields["coldStart"] in (True, False)
    assert fields["requestId"]


def test_anonymous_and_failed_requests_are_logged_without_a_user(api, request_log):
    request_log.clear()
    assert api.get("/products/does-not-exist").status == 404
    [fields] = _request_records(request_log)
    assert fields["status"] == 404
    assert "userId" not in fields


def test_the_formatter_writes_one_json_object_with_the_fields():
    record = logging.LogRecord("shop.request", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"status": 201, "route": "/orders"}
    line = json.loads(observability.JsonFormatter().format(record))
    assert line["message"] == "request"
    assert line["level"] == "INFO"
    assert line["status"] == 201
    assert line["route"] == "/orders"
    assert line["stage"] == "test"


def test_the_formatter_carries_the_traceback_of_errors():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "shop.http", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    line = json.loads(observability.JsonFormatter().format(record))
    assert "RuntimeError: boom" in line["exception"]
    assert "Traceback" in line["exception"]


def test_an_order_emits_emf_metrics_with_the_stage_dimension(api, admin, customer, capsys):
    product = api.create_product(admin, price="19.99", stock=5)
    capsys.readouterr()
    body = {"items": [{"productId": product["productId"], "quantity": 3}]}
    assert api.post("/orders", body, token=customer.token).status == 201
    [document] = _emf(_json_lines(capsys.readouterr().out))
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Shop"
    assert directive["Dimensions"] == [["Stage"]]
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units == {"OrdersPlaced": "Count", "OrderValue": "None"}
    assert document["Stage"] == "test"
    assert document["OrdersPlaced"] == 1
    assert document["OrderValue"] == pytest.approx(59.97)
    assert isinstance(document["_aws"]["Timestamp"], int)


def test_stock_conflicts_and_cancellations_are_counted(api, admin, customer, capsys):
    product = api.create_product(admin, stock=1)
    line = {"items": [{"productId": product["productId"], "quantity": 2}]}
    capsys.readouterr()
    assert api.post("/orders", line, token=customer.token).status == 409
    [conflict] = _emf(_json_lines(capsys.readouterr().out))
    assert conflict["StockConflicts"] == 1
    assert "OrdersPlaced" not in conflict

    order = api.post(
        "/orders", {"items": [{"productId": product["productId"], "quantity": 1}]},
        token=customer.token,
    ).body  # fmt: skip
    capsys.readouterr()
    assert api.post(f"/orders/{order['orderId']}/cancel", token=customer.token).status == 200
    [cancelled] = _emf(_json_lines(capsys.readouterr().out))
    assert cancelled["OrdersCancelled"] == 1


def test_login_failures_are_counted(api, customer, capsys):
    capsys.readouterr()
    reply = api.post("/users/login", {"email": customer.email, "password": "wrong-password"})
    assert reply.status == 401
    [document] = _emf(_json_lines(capsys.readouterr().out))
    assert document["LoginFailures"] == 1


def test_the_stream_handler_counts_what_it_published(api, admin, customer, capsys, stream):
    product = api.create_product(admin)
    body = {"items": [{"productId": product["productId"], "quantity": 1}]}
    assert api.post("/orders", body, token=customer.token).status == 201
    capsys.readouterr()

    stream.drain()

    [document] = _emf(_json_lines(capsys.readouterr().out))
    assert document["EventsPublished"] == 1


def test_a_failed_stream_batch_is_counted_as_a_handler_error(
    api, admin, customer, capsys, monkeypatch, stream
):
    from chalicelib import aws, publisher

    monkeypatch.setattr(aws.client("sns"), "publish_batch", lambda **_: {"Failed": []})
    product = api.create_product(admin)
    body = {"items": [{"productId": product["productId"], "quantity": 1}]}
    assert api.post("/orders", body, token=customer.token).status == 201
    capsys.readouterr()

    with pytest.raises(publisher.PublishFailed):
        stream.poll_once()

    [document] = _emf(_json_lines(capsys.readouterr().out))
    assert document["HandlerErrors"] == 1
    assert document["EventsPublished"] == 0


def test_requests_without_metrics_write_no_emf_line(api, capsys):
    capsys.readouterr()
    assert api.get("/products").status == 200
    assert _emf(_json_lines(capsys.readouterr().out)) == []


def test_metrics_outside_a_request_are_ignored():
    observability.metric("OrdersPlaced")  # e.g. from a script: must not raise or leak


def test_emf_document_sums_repeated_metrics():
    document = observability.emf_document(
        [("OrdersPlaced", 1, "Count"), ("OrdersPlaced", 1, "Count")], 1_700_000_000_000
    )
    assert document["OrdersPlaced"] == 2
    assert document["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "OrdersPlaced", "Unit": "Count"}
    ]


def test_the_subscriber_counts_malformed_messages_and_logs_the_event(aws, capsys, caplog):
    from chalice.test import Client

    from app import app

    caplog.set_level(logging.INFO, logger="shop.request")
    with Client(app) as client:
        capsys.readouterr()
        event = client.events.generate_sns_event(message="not json")
        client.lambda_.invoke("on_order_event", event)
    [document] = _emf(_json_lines(capsys.readouterr().out))
    assert document["SubscriberErrors"] == 1
    [fields] = [r.fields for r in caplog.records if r.name == "shop.request"]
    assert fields["eventType"] == "SNSEvent"
