"""The project's error types. ``app.py`` maps them to HTTP in one place."""

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
    """A transient condition the client should retry (e.g. transaction conflicts)."""

    status_code = 503
    code = "ServiceBusy"


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
