"""Fault injection for AWS calls: errors and latency by service and operation.

The ``faults`` fixture wraps ``BaseClient._make_api_call`` (as ``aws_calls`` does), so
it reaches boto3 clients and PynamoDB alike. An injected error is raised *above*
botocore's retries: it stands for a dependency that is still throttled or unavailable
after the SDK gave up. Latency is slept before the call goes on, so the request's
time budget (``chalicelib.aws.deadline``) sees it.

    faults.throttle("dynamodb", "GetItem")                  # every GetItem
    faults.throttle("dynamodb", rate=0.2)                    # one call in five, at random
    faults.fail("sns", "Publish", on_calls={2})              # the 2nd Publish only
    faults.delay("dynamodb", seconds=0.2)                    # every DynamoDB call
    faults.resend("dynamodb", "PutItem")                     # sent twice, first answer lost
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

ErrorFactory = Callable[[str, dict[str, Any]], Exception]

# What each service answers when it throttles (they do not agree on a spelling).
THROTTLING_CODES = {
    "dynamodb": "ProvisionedThroughputExceededException",
    "sns": "Throttling",
    "secretsmanager": "ThrottlingException",
    "sts": "Throttling",
}
SERVER_ERROR_CODES = {"InternalServerError", "InternalFailure", "ServiceUnavailable"}


def client_error(
    code: str, *, status: int | None = None, cancellation_reasons: list[str] | None = None
) -> ErrorFactory:
    """A ``ClientError`` as botocore raises it for an error answer with this code."""

    def make(operation: str, params: dict[str, Any]) -> Exception:
        http_status = status or (500 if code in SERVER_ERROR_CODES else 400)
        response: dict[str, Any] = {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": http_status, "HTTPHeaders": {}},
        }
        if cancellation_reasons is not None:
            response["CancellationReasons"] = [{"Code": c} for c in cancellation_reasons]
        return ClientError(response, operation)

    return make


def throttled_transaction(operation: str, params: dict[str, Any]) -> Exception:
    """``TransactionCanceledException`` with ``ThrottlingError`` on the first item."""
    count = len(params.get("TransactItems", [])) or 1
    reasons = ["ThrottlingError"] + ["None"] * (count - 1)
    return client_error("TransactionCanceledException", cancellation_reasons=reasons)(
        operation, params
    )


def read_timeout(operation: str, params: dict[str, Any]) -> Exception:
    return ReadTimeoutError(endpoint_url=f"https://injected/{operation}")


@dataclass
class Fault:
    service: str
    operation: str | None
    error: ErrorFactory | None = None
    latency: float = 0.0
    resend: bool = False  # send once more first and drop that answer (a lost response)
    rate: float = 1.0
    on_calls: Collection[int] | None = None
    times: int | None = None
    matched: int = 0  # matching calls seen so far
    injected: int = 0

    def matches(self, service: str, operation: str) -> bool:
        return self.service == service and self.operation in (None, operation)

    def fires(self, rng: random.Random) -> bool:
        """Called once per matching call, in order."""
        self.matched += 1
        if self.times is not None and self.injected >= self.times:
            return False
        if self.on_calls is not None:
            hit = self.matched in self.on_calls
        else:
            hit = self.rate >= 1 or rng.random() < self.rate
        if hit:
            self.injected += 1
        return hit


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    injected: str | None  # the injected error's name, if any


@dataclass
class FaultInjector:
    rng: random.Random = field(default_factory=lambda: random.Random(17))
    faults: list[Fault] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def add(
        self,
        service: str,
        operation: str | None = None,
        *,
        error: ErrorFactory | None = None,
        latency: float = 0.0,
        resend: bool = False,
        rate: float = 1.0,
        on_calls: Collection[int] | None = None,
        times: int | None = None,
    ) -> Fault:
        fault = Fault(service, operation, error, latency, resend, rate, on_calls, times)
        self.faults.append(fault)
        return fault

    def throttle(self, service: str, operation: str | None = None, **when: Any) -> Fault:
        code = when.pop("code", None) or THROTTLING_CODES[service]
        return self.add(service, operation, error=client_error(code), **when)

    def fail(
        self, service: str, operation: str | None = None, *, error: ErrorFactory, **when: Any
    ) -> Fault:
        return self.add(service, operation, error=error, **when)

    def delay(self, service: str, operation: str | None = None, *, seconds: float, **when: Any):
        return self.add(service, operation, latency=seconds, **when)

    def resend(self, service: str, operation: str | None = None, **when: Any) -> Fault:
        """As botocore's own retry after a read timeout: the first attempt did land."""
        return self.add(service, operation, resend=True, **when)

    def clear(self) -> None:
        self.faults.clear()
        self.calls.clear()

    def operations(self, service: str | None = None) -> list[str]:
        return [c.operation for c in self.calls if service in (None, c.service)]

    def injected(self) -> list[tuple[str, str, str]]:
        return [(c.service, c.operation, c.injected) for c in self.calls if c.injected]

    def before_call(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        """Sleep and/or raise as the matching faults say; record the call.

        Returns whether the call is to be sent twice (the first answer dropped).
        """
        import time

        call = Call(service, operation, params, None)
        self.calls.append(call)
        resend = False
        for fault in self.faults:
            if not fault.matches(service, operation) or not fault.fires(self.rng):
                continue
            resend = resend or fault.resend
            if fault.latency:
                time.sleep(fault.latency)
            if fault.error is not None:
                error = fault.error(operation, params)
                call.injected = type(error).__name__
                if isinstance(error, ClientError):
                    call.injected = error.response["Error"]["Code"]
                raise error
        if resend:
            call.injected = "resent"
        return resend


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> FaultInjector:
    from botocore.client import BaseClient

    injector = FaultInjector()
    original = BaseClient._make_api_call

    def injecting(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        if injector.before_call(service, operation_name, api_params):
            original(client, operation_name, api_params)  # landed; its answer is lost
        return original(client, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", injecting)
    return injector
