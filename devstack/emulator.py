"""An embedded moto server that behaves enough like AWS for the shop to run on it.

Two things separate plain moto server from what the app needs:

* moto's threaded server runs requests concurrently without serializing them, so a
  conditional write or a transaction is not atomic against a concurrent one. DynamoDB's
  are, and the app's correctness (no oversell, unique emails) rests on that. The
  middleware below therefore runs DynamoDB requests one at a time.
* SNS can only deliver to HTTP(S), SQS or moto-Lambda subscribers. The middleware also
  serves an HTTP endpoint that turns SNS deliveries into Lambda events for an
  in-process handler, so the app's ``@app.on_sns_message`` function runs as on AWS.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from devstack.chaos import CONTROL_PATH, Chaos, respond
from devstack.lambdas import FakeLambdaContext, sns_event_from_http_delivery
from devstack.moto_fixes import keep_streams_through_rollback
from devstack.outbox import Outbox

logger = logging.getLogger(__name__)

SNS_BRIDGE_PATH = "/_devstack/sns"
OUTBOX_PATH = "/_devstack/outbox"
SNS_EMAIL_PATH = "/_devstack/sns-email"

# Loopback traffic must never go to an HTTP proxy configured in the environment.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# A Lambda-style handler: called with (event, context), return value ignored.
LambdaHandler = Callable[[dict[str, Any], Any], Any]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SnsBridge:
    """Hands SNS HTTP deliveries to a Lambda-style handler in this process.

    ``subscriber`` and ``subscription_arn`` may be set after construction: the app
    can only be imported once the emulator runs and the topic exists.
    """

    def __init__(
        self,
        subscriber: LambdaHandler | None = None,
        function_name: str = "sns-subscriber",
        region: str = "us-east-1",
    ) -> None:
        self.subscriber = subscriber
        self.subscription_arn = ""
        self.function_name = function_name
        self.region = region

    def deliver(self, body: bytes) -> None:
        """Invoke the subscriber for one delivery; never raises.

        moto delivers inside ``Publish`` and fails the publish if the endpoint cannot
        be reached, so a broken handler must not surface as a broken publisher. On AWS
        a failing subscriber is retried and logged, never reported back to the publisher.
        """
        try:
            notification = json.loads(body)
        except ValueError:
            logger.error("devstack: SNS delivery is not JSON: %.200r", body)
            return
        if not isinstance(notification, dict) or notification.get("Type") != "Notification":
            # Real SNS sends SubscriptionConfirmation first; moto does not, but be ready.
            logger.info("devstack: ignoring SNS message of type %r", _type_of(notification))
            return
        subscriber = self.subscriber
        if subscriber is None:
            logger.warning("devstack: SNS notification dropped, no subscriber is wired yet")
            return
        event = sns_event_from_http_delivery(notification, self.subscription_arn)
        context = FakeLambdaContext(self.function_name, region=self.region)
        try:
            subscriber(event, context)
        except Exception:
            logger.exception(
                "devstack: SNS subscriber %s failed (message %s)",
                self.function_name,
                notification.get("MessageId"),
            )


def _type_of(notification: Any) -> Any:
    return notification.get("Type") if isinstance(notification, dict) else type(notification)


# DynamoDB operations that can add a record to a table's stream.
_DYNAMODB_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)


class EmulatorMiddleware:
    """WSGI middleware in front of moto: DynamoDB serialization, the SNS bridge, the outbox."""

    def __init__(
        self,
        app: WSGIApp,
        bridge: SnsBridge,
        chaos: Chaos | None = None,
        outbox: Outbox | None = None,
        written: threading.Event | None = None,
    ) -> None:
        self._app = app
        self._bridge = bridge
        self._outbox = outbox if outbox is not None else Outbox()
        self._dynamodb_lock = threading.Lock()
        self.chaos = chaos if chaos is not None else Chaos()
        self._written = written if written is not None else threading.Event()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == SNS_BRIDGE_PATH and environ.get("REQUEST_METHOD") == "POST":
            return self._serve_bridge(environ, start_response)
        if environ.get("PATH_INFO") == CONTROL_PATH:
            return self.chaos.serve_control(environ, start_response)
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") in (
            OUTBOX_PATH,
            SNS_EMAIL_PATH,
        ):
            return self._serve_outbox(environ, start_response)
        # Opt-in throttling (devstack/chaos.py), answered before moto sees the request.
        throttled = self.chaos.answer(environ)
        if throttled is not None:
            return respond(throttled, start_response)
        if "/ses/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            # Completed before stamping, so that sentAt is when SES accepted the message.
            try:
                return self._call_to_completion(environ, start_response)
            finally:
                self._outbox.stamp()
        # Only DynamoDB takes the lock. SNS must not: moto delivers to HTTP subscribers
        # synchronously inside Publish, and the subscriber writes to DynamoDB, so a
        # lock held across a publish would deadlock.
        # Stream reads take it too, so that a reader never sees a transaction half-done.
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(("DynamoDB_", "DynamoDBStreams_")):
            with self._dynamodb_lock:
                try:
                    return self._call_to_completion(environ, start_response)
                finally:
                    if target.rpartition(".")[2] in _DYNAMODB_WRITES:
                        self._written.set()  # wakes the stream poller (devstack.streams)
        return self._app(environ, start_response)

    def _call_to_completion(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        # A WSGI app may do its work lazily while the body is iterated, so the body is
        # drained here, inside the lock, rather than by the server after we return.
        result = self._app(environ, start_response)
        try:
            return list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _serve_bridge(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self._bridge.deliver(Request(environ).get_data())
        return Response("OK", status=200, mimetype="text/plain")(environ, start_response)

    def _serve_outbox(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == OUTBOX_PATH:
            body: list[dict[str, Any]] = self._outbox.emails()
        else:
            body = self._outbox.sns_email_deliveries()
        return Response(
            json.dumps(body, indent=2, ensure_ascii=False), status=200, mimetype="application/json"
        )(environ, start_response)


class Emulator:
    """moto server on a loopback port, in a background thread of this process.

    The port is bound in the constructor (``port=0`` picks a free one), so
    :attr:`endpoint_url` is known before :meth:`start`. moto's state is global to the
    process, so run one emulator at a time; each :meth:`start` begins with empty state.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, bridge: SnsBridge | None = None
    ) -> None:
        keep_streams_through_rollback()  # moto runs in this process (devstack/moto_fixes.py)
        self.bridge = bridge if bridge is not None else SnsBridge()
        self.outbox = Outbox()
        # Set after every DynamoDB write: a stream poller waits on it instead of polling.
        self.dynamodb_written = threading.Event()
        app = EmulatorMiddleware(
            DomainDispatcherApplication(create_backend_app),
            self.bridge,
            outbox=self.outbox,
            written=self.dynamodb_written,
        )
        self.chaos = app.chaos
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},  # a prompt shutdown(); the default is 0.5 s
            name="devstack-moto",
            daemon=True,
        )

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def sns_bridge_url(self) -> str:
        return self.endpoint_url + SNS_BRIDGE_PATH

    @property
    def outbox_url(self) -> str:
        return self.endpoint_url + OUTBOX_PATH

    @property
    def sns_email_url(self) -> str:
        return self.endpoint_url + SNS_EMAIL_PATH

    def start(self) -> None:
        self._thread.start()
        # moto keeps its state in module globals, shared by every server in the process:
        # start from an empty account, not from what an earlier emulator left behind
        # (e.g. subscriptions pointing at a bridge that is gone, which fail every publish).
        reset = urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST")
        with _LOOPBACK.open(reset, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        """Stop serving and release the port; safe to call more than once."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
