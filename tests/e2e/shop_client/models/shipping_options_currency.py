from enum import StrEnum


class ShippingOptionsCurrency(StrEnum):
    USD = "USD"

    def __str__(self) -> str:
        return str(self.value)
