"""Load the Chalice app for a stage and serve it in-process, as ``chalice local`` does.

Building the server here instead of shelling out to ``chalice local`` lets the stack
raise the listen backlog, choose a free port, and share one process (and one moto)
with the SNS bridge.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from http.server import HTTPServer
from types import ModuleType
from typing import Any

from chalice.app import Chalice
from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.deploy.validate import validate_routes
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    RouteMatcher,
    ThreadedHTTPServer,
)

# How often a serving loop checks for shutdown; the socketserver default of 0.5 s makes
# Ctrl-C feel sluggish.
SHUTDOWN_POLL_SECONDS = 0.1


class BackloggedHTTPServer(ThreadedHTTPServer):
    """chalice's threaded server with a listen backlog that survives a burst of clients.

    socketserver's default backlog of 5 makes the kernel reset connections when a
    load test or a concurrency test opens 20 at once.
    """

    request_queue_size = 128
    daemon_threads = True
    allow_reuse_address = True


MISSING_TOKEN = {"message": "Missing Authentication Token"}


class GatewayRequestHandler(ChaliceRequestHandler):
    """chalice local's handler, answering what the API does not define as API Gateway does.

    - A method a path does not define (``HEAD``, ``TRACE``, ``PATCH``, ``FOO``...) is a 403
      ``{"message": "Missing Authentication Token"}``, as for an unknown path, instead of
      reaching the app (405) or http.server (501 HTML).
    - http.server's own refusals (oversized headers, a bad request line) are JSON too.
    - A ``HEAD`` answer never has a body, and a refused request's body is read first, so a
      keep-alive connection stays in step.
    """

    def __init__(
        self,
        request: bytes,
        client_address: tuple[str, int],
        server: HTTPServer,
        app_object: Chalice,
        config: Config,
    ) -> None:
        self._routes = app_object.routes
        self._matcher = RouteMatcher(list(app_object.routes))
        super().__init__(request, client_address, server, app_object, config)

    def __getattr__(self, name: str) -> Any:
        # http.server dispatches to do_<METHOD> and answers 501 (HTML) when it is missing.
        if name.startswith("do_"):
            return self._not_defined
        raise AttributeError(name)

    def _method_defined(self) -> bool:
        try:
            route = self._matcher.match_route(self.path).route
        except ValueError:
            return True  # an unknown path: chalice's gateway answers it (403) already
        return self.command in self._routes[route]

    def _generic_handle(self) -> None:
        if not self._method_defined():
            self._not_defined()
            return
        super()._generic_handle()

    # The parent binds these to its own _generic_handle; rebind them to the one above.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _not_defined(self) -> None:
        self._parse_payload()  # read (and drop) the body: the next request starts after it
        self._send_json(
            403, MISSING_TOKEN, {"x-amzn-ErrorType": "MissingAuthenticationTokenException"}
        )

    def _send_json(self, code: int, body: dict[str, str], headers: dict[str, str]) -> None:
        self._send_http_response_with_body(code, dict(headers), json.dumps(body))

    def _send_http_response_with_body(
        self, code: int, headers: dict[str, Any], body: str | bytes
    ) -> None:
        if self.command != "HEAD":
            super()._send_http_response_with_body(code, headers, body)
            return
        # The headers a GET would get, Content-Length included, and no body.
        raw = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's refusals (400, 414, 431, ...): JSON, and the connection closes."""
        reason = message or self.responses.get(code, ("Error",))[0]
        self.log_error("code %d, message %s", code, reason)
        self.close_connection = True
        raw = json.dumps({"message": reason}).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)


def load_app(
    project_dir: str, stage: str, environment: dict[str, str]
) -> tuple[Config, ModuleType]:
    """Import ``app.py`` under ``stage`` and return the stage config and the app module.

    Chalice applies the stage's ``environment_variables`` to ``os.environ`` before the
    import; ``environment`` is layered on top of them (user-provided parameters win in
    chalice's merge), so values computed at start-up cannot be clobbered by config.json.
    """
    # chalice's CLI sets this for every command, apps may use it to detect a local run.
    os.environ.setdefault("AWS_CHALICE_CLI_MODE", "true")
    factory = CLIFactory(project_dir, environ=os.environ)
    config = factory.create_config_obj(
        chalice_stage_name=stage,
        user_provided_params={"environment_variables": dict(environment)},
    )
    chalice_app = config.chalice_app  # triggers the import with the environment applied
    module = sys.modules.get("app") or importlib.import_module("app")
    if getattr(module, "app", None) is not chalice_app:
        raise RuntimeError(f"'app' imported from an unexpected place: {module.__file__}")
    return config, module


def create_api_server(config: Config, host: str, port: int) -> LocalDevServer:
    """Build (and bind) the local API Gateway emulation for ``config``'s app."""
    app_obj: Chalice = config.chalice_app
    validate_routes(app_obj.routes)
    # Same class swap as chalice.local.create_local_server: LocalChalice keeps
    # current_request per thread, which the multi-threaded server needs.
    CustomLocalChalice.__bases__ = (LocalChalice, app_obj.__class__)
    app_obj.__class__ = CustomLocalChalice
    return LocalDevServer(
        app_obj,
        config,
        host,
        port,
        handler_cls=GatewayRequestHandler,
        server_cls=BackloggedHTTPServer,
    )


class ApiServerThread:
    """Runs a :class:`LocalDevServer` in a background thread and frees its port on stop."""

    def __init__(self, server: LocalDevServer) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name="devstack-api",
            daemon=True,
        )

    @property
    def port(self) -> int:
        # The bound port, which differs from the requested one when that was 0.
        address: Any = self._server.server.server_address
        return int(address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server.server_close()
