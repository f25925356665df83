"""``python -m devstack``: the whole shop API on loopback, against an embedded moto.

Start-up order matters: the emulator must be listening and the environment pointing
at it before the app is imported (chalicelib reads table names and the endpoint at
import), and the tables must exist before the admin is seeded.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import warnings
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devstack.emulator import Emulator
    from devstack.payments import LocalStripe

logger = logging.getLogger("devstack")

STAGE = "local"
PROJECT_DIR = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "localadmin"  # documented local default, fine to print
SUBSCRIBER_FUNCTION = "on_order_event"
SWEEP_FUNCTION = "republish_unannounced"
STREAM_FUNCTION = "publish_order_events"
SWEEP_INTERVAL_SECONDS = 60.0  # LOCAL_SWEEP_SECONDS overrides it (tests of the expiry)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="Serve the shop API locally against an in-process moto server.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="API listen address")
    parser.add_argument(
        "--port",
        type=int,
        default=os.environ.get("PORT", "8000"),
        help="API port (default: $PORT or 8000; 0 picks a free port)",
    )
    parser.add_argument(
        "--moto-port", type=int, default=0, help="moto port on 127.0.0.1 (default: a free port)"
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="Chalice project to serve (default: this repository)",
    )
    return parser.parse_args(argv)


def prepare_environment(endpoint_url: str) -> dict[str, str]:
    """Point every AWS client of this process at the emulator, with throwaway credentials.

    Returns the variables the stack decided, so they can be layered over the stage's
    config.json values when the app is imported.
    """
    # Anything that could route a call to a real account (a profile, a session token,
    # a per-service endpoint that beats AWS_ENDPOINT_URL) goes.
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_") or name in (
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        ):
            del os.environ[name]
    decided = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        # Both botocore and PynamoDB honour it, so no Meta.host is needed.
        "AWS_ENDPOINT_URL": endpoint_url,
        "TOKEN_SECRET": os.environ.get("TOKEN_SECRET") or secrets.token_urlsafe(32),
    }
    # moto delivers SNS with `requests`, which would send loopback traffic to a proxy.
    for name in ("NO_PROXY", "no_proxy"):
        existing = os.environ.get(name, "")
        decided[name] = ",".join(filter(None, [existing, "127.0.0.1", "localhost"]))
    os.environ.update(decided)
    return decided


def configure_logging() -> None:
    # As `chalice local` does: the app's log lines go to stdout, unadorned.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    # moto's server would otherwise log every AWS call the app makes, and botocore how
    # it found the (dummy) credentials and endpoint for every new client.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("pynamodb.settings").setLevel(logging.WARNING)
    # Expected and documented: the token secret is generated locally instead.
    warnings.filterwarnings("ignore", message=".*AWS::SecretsManager::Secret.*")


class DevStack:
    """Starts the pieces in order and registers their shutdown on ``cleanup``."""

    def __init__(self, args: argparse.Namespace, cleanup: contextlib.ExitStack) -> None:
        self._args = args
        self._cleanup = cleanup
        self._project_dir: Path = args.project_dir.resolve()
        self.url = ""
        self.moto_url = ""
        self.outbox_url = ""
        self.admin_email = ADMIN_EMAIL
        self.admin_password = os.environ.get("LOCAL_ADMIN_PASSWORD") or DEFAULT_ADMIN_PASSWORD
        self.chaos_rate = 0.0
        self.local_stripe_url = ""

    def start(self) -> None:
        # Imported here rather than at the top: moto and chalice take a second or two to
        # import, which --help does not need and Ctrl-C should be able to interrupt.
        from devstack.api import ApiServerThread, create_api_server, load_app
        from devstack.chaos import delay_from_environ, rate_from_environ
        from devstack.emulator import Emulator
        from devstack.resources import create_resources

        # Fail in a second, with a plain message, rather than after the emulator and the
        # app have started (or, for moto's port, with werkzeug's exit inside make_server).
        _check_port_free(self._args.host, self._args.port, "--port or PORT")
        _check_port_free("127.0.0.1", self._args.moto_port, "--moto-port")

        emulator = Emulator("127.0.0.1", self._args.moto_port)
        self._cleanup.callback(emulator.stop)
        emulator.start()
        self.moto_url = emulator.endpoint_url
        environment = prepare_environment(emulator.endpoint_url)
        region = environment["AWS_DEFAULT_REGION"]
        local_stripe = self._start_local_stripe(environment)

        app_name = _app_name(self._project_dir)
        outputs = create_resources(
            STAGE,
            app_name=app_name,
            region=region,
            stack_name=f"{app_name}-{STAGE}",
            template_path=self._project_dir / "infra" / "resources.json",
        )
        for variable, output in (
            ("ORDER_EVENTS_TOPIC_ARN", "OrderEventsTopicArn"),
            ("ORDERS_STREAM_ARN", "OrdersTableStreamArn"),
        ):
            environment[variable] = os.environ[variable] = outputs[output]

        config, app_module = load_app(str(self._project_dir), STAGE, environment)
        self._verify_sender(emulator, region)
        self._deliver_order_events(emulator, app_module, app_name, region)
        self._read_orders_stream(app_module, app_name, region, emulator.dynamodb_written)
        self._seed_admin()
        # Opt-in throttling starts once the stack is set up (devstack/chaos.py).
        emulator.chaos.rate = rate_from_environ()
        emulator.chaos.delay = delay_from_environ()
        self.chaos_rate = emulator.chaos.rate

        api = ApiServerThread(create_api_server(config, self._args.host, self._args.port))
        self._cleanup.callback(api.stop)
        api.start()
        self.url = f"http://{self._args.host}:{api.port}"
        self._link_emails_to_page()
        if local_stripe is not None:
            local_stripe.register_webhook(self.url)

        self._schedule_sweep(app_module, app_name, region)

    def _start_local_stripe(self, environment: dict[str, str]) -> LocalStripe | None:
        """With PAYMENT_PROVIDER=stripe: localstripe on loopback, and the SDK pointed at it."""
        if (os.environ.get("PAYMENT_PROVIDER") or "none").strip().lower() != "stripe":
            return None
        from devstack.payments import DEFAULT_PORT, LocalStripe

        port = int(os.environ.get("LOCALSTRIPE_PORT") or DEFAULT_PORT)
        _check_port_free("127.0.0.1", port, "LOCALSTRIPE_PORT")
        local_stripe = LocalStripe(port)
        self._cleanup.callback(local_stripe.stop)
        local_stripe.start()
        environment.update(local_stripe.environment())
        os.environ.update(local_stripe.environment())
        self.local_stripe_url = local_stripe.url
        return local_stripe

    def _deliver_order_events(
        self, emulator: Emulator, app_module: ModuleType, app_name: str, region: str
    ) -> None:
        """Subscribe the SNS bridge to the topic, in front of the app's subscriber."""
        from devstack.resources import subscribe_http

        bridge = emulator.bridge
        # Wired before subscribing, so that no delivery can find the bridge empty.
        bridge.subscriber = getattr(app_module, SUBSCRIBER_FUNCTION, None)
        bridge.function_name = f"{app_name}-{STAGE}-{SUBSCRIBER_FUNCTION}"
        bridge.region = region
        if bridge.subscriber is None:
            logger.warning("devstack: app.py has no %s; events go nowhere", SUBSCRIBER_FUNCTION)
        bridge.subscription_arn = subscribe_http(
            os.environ["ORDER_EVENTS_TOPIC_ARN"], emulator.sns_bridge_url, region
        )

    def _link_emails_to_page(self) -> None:
        """Account emails (verification, password reset) link to this stack's page, unless
        PUBLIC_URL says otherwise; known only once the port is bound."""
        from chalicelib.config import get_settings  # importable only once the app is

        if not os.environ.get("PUBLIC_URL"):
            os.environ["PUBLIC_URL"] = self.url
            get_settings.cache_clear()

    def _verify_sender(self, emulator: Emulator, region: str) -> None:
        """Verify the stage's EMAIL_SENDER in moto's SES (which, like SES, refuses others)."""
        import boto3

        from chalicelib.config import get_settings  # importable only once the app is

        emulator.outbox.region = region
        self.outbox_url = emulator.outbox_url
        sender = get_settings().email_sender
        if sender:
            boto3.client("ses", region_name=region).verify_email_identity(EmailAddress=sender)

    def _read_orders_stream(
        self, app_module: ModuleType, app_name: str, region: str, written: threading.Event
    ) -> None:
        """Hand the orders table's stream to the app's handler, as Lambda's mapping would."""
        from devstack.streams import StreamPoller

        handler = getattr(app_module, STREAM_FUNCTION, None)
        if handler is None:
            logger.warning("devstack: app.py has no %s; no order events", STREAM_FUNCTION)
            return
        poller = StreamPoller(
            handler,
            os.environ["ORDERS_STREAM_ARN"],
            f"{app_name}-{STAGE}-{STREAM_FUNCTION}",
            region=region,
            wake=written,
        )
        self._cleanup.callback(poller.stop)
        poller.start()

    def _seed_admin(self) -> None:
        from chalicelib.users import ensure_admin  # importable only once the app is

        ensure_admin(self.admin_email, self.admin_password)

    def _schedule_sweep(self, app_module: ModuleType, app_name: str, region: str) -> None:
        from devstack.lambdas import PeriodicInvoker

        handler = getattr(app_module, SWEEP_FUNCTION, None)
        if handler is None:
            return
        sweep = PeriodicInvoker(
            handler,
            f"{app_name}-{STAGE}-{SWEEP_FUNCTION}",
            interval=float(os.environ.get("LOCAL_SWEEP_SECONDS") or SWEEP_INTERVAL_SECONDS),
            region=region,
        )
        self._cleanup.callback(sweep.stop)
        sweep.start()

    def print_banner(self) -> None:
        lines = [
            "",
            f"  Shop API (stage {STAGE}) on {self.url}",
            f"  page:  {self.url}/  (storefront and admin, in a browser)",
            f"  admin: {self.admin_email} / {self.admin_password}",
            f"  try:   curl -s {self.url}/products",
            f"  moto:  {self.moto_url} (AWS_ENDPOINT_URL; credentials testing/testing)",
            f"  mail:  {self.outbox_url} (emails sent so far, JSON)",
            *(
                [f"  chaos: {self.chaos_rate:.0%} of DynamoDB and SNS calls throttled"]
                if self.chaos_rate
                else []
            ),
            *(
                [
                    f"  payments: Stripe via localstripe on {self.local_stripe_url}; "
                    "orders wait for payment",
                    f"  pay:   make pay ORDER=<orderId> STRIPE_API_BASE={self.local_stripe_url}"
                    " [CARD=4000000000000341 to decline]",
                    "         or on the web page: My orders, 'Pay with test card'",
                ]
                if self.local_stripe_url
                else []
            ),
            "  stop:  Ctrl-C",
            "",
            # Tests and scripts wait for this exact line; keep it stable.
            f"devstack ready: {self.url}",
        ]
        print("\n".join(lines), flush=True)


def _check_port_free(host: str, port: int, option: str) -> None:
    if port == 0:
        return
    with socket.socket() as probe:
        # Same option the server sets, so a port left in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise StartupError(
                f"cannot listen on {host}:{port} ({error.strerror}); "
                f"pick another port with {option}"
            ) from error


def _app_name(project_dir: Path) -> str:
    from chalice.cli.factory import CLIFactory

    return str(CLIFactory(str(project_dir)).load_project_config()["app_name"])


class _Interrupted(BaseException):
    """Raised by the signal handler to abandon a start-up in progress.

    A BaseException, like KeyboardInterrupt, so that the many ``except Exception``
    blocks in boto3 and moto cannot swallow it.
    """


class StartupError(Exception):
    """A start-up problem with a plain explanation; no traceback needed."""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging()
    stop = threading.Event()
    starting = True

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal starting
        stop.set()
        # Once serving, the main loop notices the event. During start-up there is no
        # loop yet, so unwind right away (the ExitStack stops what did start); only
        # once, so that a second Ctrl-C cannot break into that clean-up.
        if starting:
            starting = False
            raise _Interrupted

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    with contextlib.ExitStack() as cleanup:
        stack = DevStack(args, cleanup)
        try:
            stack.start()
        except _Interrupted:
            print("devstack: interrupted during start-up", flush=True)
            return 0
        except StartupError as error:
            print(f"devstack: {error}", file=sys.stderr, flush=True)
            return 1
        except Exception:
            logger.exception("devstack: start-up failed")
            return 1
        finally:
            starting = False
        stack.print_banner()
        # Polling keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
        print("devstack: shutting down", flush=True)
    return 0


if __name__ == "__main__":
    status = main()
    # By now both servers are stopped and their ports closed. What is left is the
    # interpreter tearing down moto's huge object graph, which takes about two seconds
    # and delays the shell prompt after Ctrl-C, so skip it (after flushing output).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
