from enum import StrEnum


class ErrorCode(StrEnum):
    ADDRESSBOOKFULL = "AddressBookFull"
    ALREADYVERIFIED = "AlreadyVerified"
    CARTCHANGED = "CartChanged"
    CARTEMPTY = "CartEmpty"
    CONCURRENTUPDATE = "ConcurrentUpdate"
    DISCOUNTCODEEXISTS = "DiscountCodeExists"
    DISCOUNTUNAVAILABLE = "DiscountUnavailable"
    EMAILTAKEN = "EmailTaken"
    FORBIDDEN = "Forbidden"
    IDEMPOTENCYKEYREUSED = "IdempotencyKeyReused"
    INSUFFICIENTSTOCK = "InsufficientStock"
    INTERNALERROR = "InternalError"
    INVALIDLINK = "InvalidLink"
    INVALIDTRANSITION = "InvalidTransition"
    METHODNOTALLOWED = "MethodNotAllowed"
    NOTFOUND = "NotFound"
    PAYLOADTOOLARGE = "PayloadTooLarge"
    PRICECHANGED = "PriceChanged"
    PRODUCTDELETED = "ProductDeleted"
    REFUNDDECLINED = "RefundDeclined"
    REFUNDEXCEEDSPAID = "RefundExceedsPaid"
    RETURNWINDOWCLOSED = "ReturnWindowClosed"
    SERVICEBUSY = "ServiceBusy"
    TOOMANYATTEMPTS = "TooManyAttempts"
    UNAUTHORIZED = "Unauthorized"
    UNSUPPORTEDMEDIATYPE = "UnsupportedMediaType"
    VALIDATIONERROR = "ValidationError"

    def __str__(self) -> str:
        return str(self.value)
