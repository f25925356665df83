"""The IAM actions the deploy scripts call, recorded at the emulator (for the rehearsal).

Each request that reaches moto server is named the way IAM names the permission it
needs: ``<service>:<Operation>`` from the signing scope and the operation (``X-Amz-Target``,
the query protocol's ``Action``, the CBOR path, or for REST services the operation whose
method and URI template match); API Gateway's permissions are its HTTP methods
(``apigateway:PATCH``). Only requests made while :attr:`ActionRecorder.on` is true count,
so the test's own reads of the account do not.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

from devstack.emulator import EmulatorMiddleware

IAM_PREFIX = {"monitoring": "cloudwatch"}  # signing name -> IAM service prefix
_SCOPE = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request")


Route = tuple[str, re.Pattern[str], str, str]  # method, path pattern, fixed query, operation


def _rest_routes(service: str) -> list[Route]:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, fixed = http["requestUri"].partition("?")  # "?find=LayerVersion"
        pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(path.rstrip("/") or "/"))
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        routes.append((http["method"], re.compile(f"^{pattern}/?$"), fixed, name))
    # A fixed query first, then the most literal template: /functions/{f}/policy before
    # /functions/{f}/{x}.
    return sorted(routes, key=lambda r: (not r[2], -len(r[1].pattern.replace("[^/]+", ""))))


class ActionRecorder:
    def __init__(self) -> None:
        self.on = False
        self.actions: set[str] = set()
        self.unnamed: list[str] = []
        self._lock = threading.Lock()
        self._routes: dict[str, list[Route]] = {}

    def action(self, environ: dict[str, Any]) -> str | None:
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is None:
            return None  # the emulator's own endpoints (SNS bridge, chaos control)
        service = scope.group(1)
        prefix = IAM_PREFIX.get(service, service)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            return f"{prefix}:{target.rpartition('.')[2]}"
        path, method = environ.get("PATH_INFO", "/"), environ["REQUEST_METHOD"]
        if "/operation/" in path:  # smithy-rpc-v2-cbor (CloudWatch)
            return f"{prefix}:{path.rsplit('/', 1)[1]}"
        if service == "apigateway":
            return f"apigateway:{method}"
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" not in query and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            query = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in query:
            return f"{prefix}:{query['Action'][0]}"
        if service not in self._routes:
            self._routes[service] = _rest_routes(service)
        given = environ.get("QUERY_STRING", "")
        for route_method, pattern, fixed, name in self._routes[service]:
            if route_method == method and pattern.match(path) and fixed in given:
                return f"{prefix}:{name}"
        self.unnamed.append(f"{service} {method} {path}")
        return None

    def add(self, environ: dict[str, Any]) -> None:
        action = self.action(environ)
        if action is not None:
            with self._lock:
                self.actions.add(action)

    @contextmanager
    def recording(self) -> Iterator[None]:
        self.on = True
        try:
            yield
        finally:
            self.on = False


@contextmanager
def recorded(recorder: ActionRecorder) -> Iterator[None]:
    """Every request to an emulator of this process goes past ``recorder``."""
    original = EmulatorMiddleware.__call__

    def call(
        self: EmulatorMiddleware, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if recorder.on:
            recorder.add(environ)
        return original(self, environ, start_response)

    EmulatorMiddleware.__call__ = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        EmulatorMiddleware.__call__ = original  # type: ignore[method-assign]


def policy_actions() -> dict[str, set[str]]:
    """infra/deployer-policy.json's actions: those the scripts call themselves (statement
    ``Scripts``), and per template resource type those CloudFormation calls with the
    deployer's credentials (statements ``CloudFormation<Service><Type>``)."""
    import json

    from scripts.project import PROJECT_DIR

    policy = json.loads((PROJECT_DIR / "infra" / "deployer-policy.json").read_text())
    actions: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions[statement["Sid"]] = set([listed] if isinstance(listed, str) else listed)
    return {"scripts": actions.pop("Scripts"), **actions}
