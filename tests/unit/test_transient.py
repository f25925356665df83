"""Which failures are transient (a 503 the client may retry) and which are bugs."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError
from pynamodb.exceptions import GetError, TransactWriteError, UpdateError, VerboseClientError

from chalicelib.errors import ServiceBusy, aws_error_code, is_transient


def client_error(code: str, status: int = 400, reasons: list[str] | None = None) -> ClientError:
    response: dict = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, "AnyOperation")


def wrapped(cause: Exception, kind: type = GetError) -> Exception:
    """As PynamoDB raises it: its own error, with a VerboseClientError raised from botocore's."""
    if not isinstance(cause, ClientError):
        return kind("Failed", cause)
    # PynamoDB keeps only the "Error" part; the cancellation reasons stay on the cause.
    verbose = VerboseClientError({"Error": cause.response["Error"]}, "AnyOperation", {})
    verbose.__cause__ = cause
    return kind("Failed", verbose)


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "InternalServiceError",
    ],
)
def test_throttling_and_unavailable_codes_are_transient(code):
    assert is_transient(client_error(code))
    assert is_transient(wrapped(client_error(code)))


def test_any_5xx_is_transient_and_a_4xx_validation_error_is_not():
    assert is_transient(client_error("SomethingNew", status=502))
    assert not is_transient(client_error("ValidationException"))
    assert not is_transient(wrapped(client_error("ConditionalCheckFailedException"), UpdateError))
    assert not is_transient(RuntimeError("a bug"))


def test_timeouts_and_unreachable_endpoints_are_transient():
    assert is_transient(ConnectTimeoutError(endpoint_url="https://dynamodb"))
    assert is_transient(wrapped(EndpointConnectionError(endpoint_url="https://dynamodb")))
    assert is_transient(ServiceBusy("busy"))


def test_a_transaction_cancelled_for_throttling_is_transient_unless_a_condition_failed():
    throttled = client_error("TransactionCanceledException", reasons=["ThrottlingError", "None"])
    assert is_transient(wrapped(throttled, TransactWriteError))
    mixed = client_error(
        "TransactionCanceledException", reasons=["ThrottlingError", "ConditionalCheckFailed"]
    )
    assert not is_transient(wrapped(mixed, TransactWriteError))


def test_the_error_code_is_found_through_wrappers_and_is_none_for_timeouts():
    failed = wrapped(client_error("ConditionalCheckFailedException"), UpdateError)
    assert aws_error_code(failed) == "ConditionalCheckFailedException"
    assert aws_error_code(wrapped(ConnectTimeoutError(endpoint_url="https://x"))) is None
