from enum import StrEnum


class RefundCreateReason(StrEnum):
    CUSTOMER_REQUEST = "customer_request"
    DAMAGED = "damaged"
    NOT_RECEIVED = "not_received"
    OTHER = "other"
    RETURN = "return"
    WRONG_ITEM = "wrong_item"

    def __str__(self) -> str:
        return str(self.value)
