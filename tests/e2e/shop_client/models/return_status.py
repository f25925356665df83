from enum import StrEnum


class ReturnStatus(StrEnum):
    APPROVED = "approved"
    RECEIVED = "received"
    REJECTED = "rejected"
    REQUESTED = "requested"

    def __str__(self) -> str:
        return str(self.value)
