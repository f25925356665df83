from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.error_code import ErrorCode
from ..types import UNSET, Unset

T = TypeVar("T", bound="Error")


@_attrs_define
class Error:
    """
    Attributes:
        error (str): Human-readable message
        code (ErrorCode): Machine-readable error code. InternalError: Internal error: a bug, logged; the client sees
            nothing else. ValidationError: The request is invalid (the message, and field when there is one, say why).
            Unauthorized: Missing, invalid, expired or revoked token, or wrong credentials. Forbidden: Signed in, but not
            allowed. NotFound: Not found (also for resources the caller may not see). MethodNotAllowed: The path does not
            serve this method (Chalice's own check). EmailTaken: A user with this email already exists. ConcurrentUpdate:
            Changed by someone else since it was read: read it again and retry. InvalidTransition: The order's status does
            not allow this step (for example, cancelled twice). AlreadyVerified: The address is already verified: there is
            nothing to resend. AddressBookFull: The address book already holds the most addresses it may: delete one first.
            InvalidLink: A verification or password-reset link that is unknown, already used or expired. InsufficientStock:
            Not enough stock for the listed productIds; nothing was ordered. CartEmpty: The cart is empty: there is nothing
            to check out. ProductDeleted: Products in the cart are no longer sold (listed in productIds). CartChanged: The
            cart changed during checkout: review it and retry. PriceChanged: The order's total is not the ``expectedTotal``
            the client showed its buyer. RefundExceedsPaid: The refund is more than what was paid minus what was already
            refunded (``refundable``). RefundDeclined: The payment provider refused the refund; nothing was refunded
            (``refund`` shows it). ReturnWindowClosed: The order was delivered longer ago than the return window
            (``returnWindowDays``). DiscountUnavailable: The discount code cannot be applied (``reason`` says why); nothing
            was ordered. DiscountCodeExists: A discount code with this code already exists (retired ones too).
            PayloadTooLarge: Request body over 64 KiB (refused before it is parsed). UnsupportedMediaType: Content-Type must
            be application/json. IdempotencyKeyReused: Idempotency-Key reused with a different request. ServiceBusy: Busy:
            nothing was written; send the same request again after Retry-After. TooManyAttempts: Too many wrong passwords
            for this account: retry after Retry-After seconds.
        field (str | Unset): The request field at fault
        product_ids (list[str] | Unset): Unknown products, or products lacking stock
        user_id (str | Unset): The unknown buyer
        total (str | Unset): PriceChanged: the order's total now (expectedTotal differed)
        retryable (bool | Unset): Retrying may succeed
        refundable (str | Unset): RefundExceedsPaid: what can still be refunded
        reason (str | Unset): DiscountUnavailable: why the code does not apply
    """

    error: str
    code: ErrorCode
    field: str | Unset = UNSET
    product_ids: list[str] | Unset = UNSET
    user_id: str | Unset = UNSET
    total: str | Unset = UNSET
    retryable: bool | Unset = UNSET
    refundable: str | Unset = UNSET
    reason: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        error = self.error

        code = self.code.value

        field = self.field

        product_ids: list[str] | Unset = UNSET
        if not isinstance(self.product_ids, Unset):
            product_ids = self.product_ids

        user_id = self.user_id

        total = self.total

        retryable = self.retryable

        refundable = self.refundable

        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "error": error,
                "code": code,
            }
        )
        if field is not UNSET:
            field_dict["field"] = field
        if product_ids is not UNSET:
            field_dict["productIds"] = product_ids
        if user_id is not UNSET:
            field_dict["userId"] = user_id
        if total is not UNSET:
            field_dict["total"] = total
        if retryable is not UNSET:
            field_dict["retryable"] = retryable
        if refundable is not UNSET:
            field_dict["refundable"] = refundable
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        error = d.pop("error")

        code = ErrorCode(d.pop("code"))

        field = d.pop("field", UNSET)

        product_ids = cast(list[str], d.pop("productIds", UNSET))

        user_id = d.pop("userId", UNSET)

        total = d.pop("total", UNSET)

        retryable = d.pop("retryable", UNSET)

        refundable = d.pop("refundable", UNSET)

        reason = d.pop("reason", UNSET)

        error = cls(
            error=error,
            code=code,
            field=field,
            product_ids=product_ids,
            user_id=user_id,
            total=total,
            retryable=retryable,
            refundable=refundable,
            reason=reason,
        )

        return error
