"""The names of order events, shared by the publisher, the subscriber and the renderers."""

from __future__ import annotations

ORDER_PLACED = "OrderPlaced"
ORDER_CANCELLED = "OrderCancelled"
ORDER_SHIPPED = "OrderShipped"
ORDER_DELIVERED = "OrderDelivered"
