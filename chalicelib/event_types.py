"""The names of order events, shared by the publisher, the subscriber and the renderers."""

from __future__ import annotations

ORDER_PLACED = "OrderPlaced"
ORDER_CANCELLED = "OrderCancelled"
ORDER_SHIPPED = "OrderShipped"
ORDER_DELIVERED = "OrderDelivered"
# With a payment provider (chalicelib/payment_flow.py): the webhook's success, and the timeout.
ORDER_PAID = "OrderPaid"
ORDER_EXPIRED = "OrderExpired"
