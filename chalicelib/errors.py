"""The project's error types. ``chalicelib/http.py`` (``error_response``) maps them to HTTP
in one place."""

from __future__ import annotations


class AppError(Exception):
    status_code = 500
    code = "InternalError"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, object]:
        return {"error": self.message, "code": self.code, **self.details}


class ValidationError(AppError):
    status_code = 400
    code = "ValidationError"


class Unauthorized(AppError):
    status_code = 401
    code = "Unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "Forbidden"


class NotFound(AppError):
    status_code = 404
    code = "NotFound"


class Conflict(AppError):
    status_code = 409
    code = "Conflict"


class InsufficientStock(Conflict):
    code = "InsufficientStock"


class IdempotencyMismatch(AppError):
    status_code = 422
    code = "IdempotencyKeyReused"


class ServiceBusy(AppError):
    """A transient condition the client should retry: throttling, an unavailable dependency,
    a transaction conflict. Nothing was half-written, so the same request may be sent again."""

    status_code = 503
    code = "ServiceBusy"

    def __init__(self, message: str, *, dependency: str | None = None) -> None:
        super().__init__(message, retryable=True)
        # Which AWS service was busy (for the per-dependency metric); never shown to clients.
        self.dependency = dependency


class DeadlineExceeded(ServiceBusy):
    """Raised before an AWS call that could not finish within the request's time budget."""


# Error codes AWS services answer when they are throttled or briefly unavailable (after the
# SDK's own retries gave up). DynamoDB, SNS, Secrets Manager and STS spell them differently.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "KMSThrottlingException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "InternalServiceError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
    }
)
# Per-item reasons of a cancelled DynamoDB transaction that mean "try again".
TRANSIENT_CANCELLATION_CODES = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}
)


def _links(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it: PynamoDB's ``.cause``, then ``raise ... from``."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        cause = getattr(current, "cause", None)
        current = cause if isinstance(cause, BaseException) else current.__cause__
    return seen


def aws_error_code(exc: BaseException) -> str | None:
    """The AWS error code behind ``exc``, if any.

    PynamoDB's ``cause_response_code`` raises ``AttributeError`` when the cause is a
    timeout (whose ``response`` is ``None``); this does not.
    """
    from botocore.exceptions import ClientError

    for link in _links(exc):
        if isinstance(link, ClientError):
            code = link.response.get("Error", {}).get("Code")
            return code if isinstance(code, str) else None
    return None


def is_transient(exc: BaseException) -> bool:
    """Throttled, unavailable or timed out: the same request may succeed in a moment."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    for link in _links(exc):
        if isinstance(link, ServiceBusy):
            return True
        if isinstance(link, ConnectionError | HTTPClientError):
            return True  # connect/read timeouts, endpoint unreachable, connection reset
        if isinstance(link, ClientError):
            error = link.response.get("Error", {})
            status = link.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if error.get("Code") in TRANSIENT_ERROR_CODES or status >= 500:
                return True
            reasons = link.response.get("CancellationReasons") or []
            codes = {reason.get("Code") for reason in reasons}
            if codes & TRANSIENT_CANCELLATION_CODES and "ConditionalCheckFailed" not in codes:
                return True
    return False


class TooManyAttempts(AppError):
    """Too many wrong passwords for one account: locked until ``retry_after`` seconds pass."""

    status_code = 429
    code = "TooManyAttempts"

    def __init__(self, message: str, retry_after: int, **details: object) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class PayloadTooLarge(AppError):
    status_code = 413
    code = "PayloadTooLarge"
