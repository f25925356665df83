"""Load the Chalice app for a stage and serve it in-process, as ``chalice local`` does.

Building the server here instead of shelling out to ``chalice local`` lets the stack
raise the listen backlog, choose a free port, and share one process (and one moto)
with the SNS bridge.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from types import ModuleType
from typing import Any

from chalice.app import Chalice
from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.deploy.validate import validate_routes
from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer, ThreadedHTTPServer

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
    return LocalDevServer(app_obj, config, host, port, server_cls=BackloggedHTTPServer)


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
