"""The two roles a user can have. Nobody becomes ``ADMIN`` through the public API."""

from __future__ import annotations

ADMIN = "admin"
CUSTOMER = "customer"
ROLES = (CUSTOMER, ADMIN)
