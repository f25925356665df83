from enum import StrEnum


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    CANCELLED = "CANCELLED"
    CONFIRMED = "CONFIRMED"
    DELIVERED = "DELIVERED"
    EXPIRED = "EXPIRED"
    PENDING = "PENDING"
    RETURNED = "RETURNED"
    RETURN_APPROVED = "RETURN_APPROVED"
    RETURN_REQUESTED = "RETURN_REQUESTED"
    SHIPPED = "SHIPPED"

    def __str__(self) -> str:
        return str(self.value)
