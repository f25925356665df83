from enum import StrEnum


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    CANCELLED = "CANCELLED"
    CONFIRMED = "CONFIRMED"
    DELIVERED = "DELIVERED"
    EXPIRED = "EXPIRED"
    PENDING = "PENDING"
    SHIPPED = "SHIPPED"

    def __str__(self) -> str:
        return str(self.value)
