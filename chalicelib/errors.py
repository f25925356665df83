"""The project's error types. ``chalicelib/http.py`` (``error_response``) maps them to HTTP
in one place.

Every code the API can answer with is declared here, once, as a subclass of
:class:`AppError` with its own ``code``: :data:`ERRORS` collects them as they are defined,
and the OpenAPI document's ``Error.code`` enum is that list (``tests/api/test_error_codes.py``
fails when any other code can reach a client). A family such as :class:`Conflict` declares
no code of its own and is never raised itself: each conflict is a distinct code.
"""

from __future__ import annotations

from typing import ClassVar

# code -> the class that declares it, in declaration order (the document's enum order).
ERRORS: dict[str, type[AppError]] = {}


class AppError(Exception):
    """Internal error: a bug, logged; the client sees nothing else."""

    status_code = 500
    code = "InternalError"
    family: ClassVar[bool] = False  # True: a base for codes, never raised itself

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            _declare(cls)

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, object]:
        return {"error": self.message, "code": self.code, **self.details}


def _declare(cls: type[AppError]) -> None:
    declared = ERRORS.setdefault(cls.code, cls)
    if declared is not cls:
        raise TypeError(f"error code {cls.code} declared twice: {declared} and {cls}")


_declare(AppError)


def meaning(cls: type[AppError]) -> str:
    """What a code means: the first line of its class's docstring."""
    return (cls.__doc__ or cls.code).strip().splitlines()[0].rstrip(".")


class ValidationError(AppError):
    """The request is invalid (the message, and field when there is one, say why)."""

    status_code = 400
    code = "ValidationError"


class Unauthorized(AppError):
    """Missing, invalid, expired or revoked token, or wrong credentials."""

    status_code = 401
    code = "Unauthorized"


class Forbidden(AppError):
    """Signed in, but not allowed."""

    status_code = 403
    code = "Forbidden"


class NotFound(AppError):
    """Not found (also for resources the caller may not see)."""

    status_code = 404
    code = "NotFound"


class MethodNotAllowed(AppError):
    """The path does not serve this method (Chalice's own check)."""

    status_code = 405
    code = "MethodNotAllowed"


class Conflict(AppError):
    """The request conflicts with the resource's current state (a family: see its codes)."""

    status_code = 409
    family = True


class EmailTaken(Conflict):
    """A user with this email already exists."""

    code = "EmailTaken"


class ConcurrentUpdate(Conflict):
    """Changed by someone else since it was read: read it again and retry."""

    code = "ConcurrentUpdate"


class InvalidTransition(Conflict):
    """The order's status does not allow this step (for example, cancelled twice)."""

    code = "InvalidTransition"


class AlreadyVerified(Conflict):
    """The address is already verified: there is nothing to resend."""

    code = "AlreadyVerified"


class AddressBookFull(Conflict):
    """The address book already holds the most addresses it may: delete one first."""

    code = "AddressBookFull"


class InvalidLink(AppError):
    """A verification or password-reset link that is unknown, already used or expired."""

    status_code = 400
    code = "InvalidLink"


class InsufficientStock(Conflict):
    """Not enough stock for the listed productIds; nothing was ordered."""

    code = "InsufficientStock"


class CartEmpty(Conflict):
    """The cart is empty: there is nothing to check out."""

    code = "CartEmpty"


class ProductGone(Conflict):
    """Products in the cart are no longer sold (listed in productIds)."""

    code = "ProductDeleted"


class CartChanged(Conflict):
    """The cart changed during checkout: review it and retry."""

    code = "CartChanged"


class PriceChanged(Conflict):
    """The order's total is not the ``expectedTotal`` the client showed its buyer."""

    code = "PriceChanged"


class RefundExceedsPaid(Conflict):
    """The refund is more than what was paid minus what was already refunded (``refundable``)."""

    code = "RefundExceedsPaid"


class RefundDeclined(Conflict):
    """The payment provider refused the refund; nothing was refunded (``refund`` shows it)."""

    code = "RefundDeclined"


class ReturnWindowClosed(Conflict):
    """The order was delivered longer ago than the return window (``returnWindowDays``)."""

    code = "ReturnWindowClosed"


class DiscountUnavailable(Conflict):
    """The discount code cannot be applied (``reason`` says why); nothing was ordered."""

    code = "DiscountUnavailable"


class DiscountCodeExists(Conflict):
    """A discount code with this code already exists (retired ones too)."""

    code = "DiscountCodeExists"


class PayloadTooLarge(AppError):
    """Request body over 64 KiB (refused before it is parsed)."""

    status_code = 413
    code = "PayloadTooLarge"


class UnsupportedMediaType(AppError):
    """Content-Type must be application/json."""

    status_code = 415
    code = "UnsupportedMediaType"


class IdempotencyMismatch(AppError):
    """Idempotency-Key reused with a different request."""

    status_code = 422
    code = "IdempotencyKeyReused"


class ServiceBusy(AppError):
    """Busy: nothing was written; send the same request again after Retry-After.

    A transient condition the client should retry: throttling, an unavailable dependency,
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
    """Too many wrong passwords for this account: retry after Retry-After seconds.

    Locked until ``retry_after`` seconds pass."""

    status_code = 429
    code = "TooManyAttempts"

    def __init__(self, message: str, retry_after: int, **details: object) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


# What Chalice answers with itself, as our codes (chalicelib.http rewrites the body).
CHALICE_CODES: dict[str, type[AppError]] = {
    "UnsupportedMediaType": UnsupportedMediaType,
    "MethodNotAllowedError": MethodNotAllowed,
}
