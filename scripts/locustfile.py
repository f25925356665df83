"""The shop mix ``make load`` runs (Locust): browse, register/sign in, order, cancel.

Each simulated user registers a throwaway account when it starts and deletes it when it
stops. The products to order come from ``LOAD_PRODUCT_IDS`` (comma separated), created
by ``scripts/load.py`` and deleted by it afterwards. Routes with ids are reported under
their template (``/orders/{orderId}``), so the per-route table stays short.
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any

from locust import HttpUser, between, task

PASSWORD = "load-test-password"
# Where the shoppers' orders go (scripts/smoke.py's SHIP_TO: locust loads this file alone).
SHIP_TO = {"name": "Load Test", "line1": "1 Main St", "city": "Portland", "region": "OR",
           "postalCode": "97201", "country": "US"}  # fmt: skip
PRODUCT_IDS = [p for p in os.environ.get("LOAD_PRODUCT_IDS", "").split(",") if p]
RUN_ID = os.environ.get("LOAD_RUN_ID", "local")


class Shopper(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.token = ""
        self.user_id = ""
        self.orders: list[str] = []
        email = f"load-{RUN_ID}-{uuid.uuid4().hex[:12]}@example.com"
        registered = self.client.post(
            "/users/register",
            json={"email": email, "name": "Load Test", "password": PASSWORD},
            name="/users/register",
        )
        if registered.status_code != 201:
            return
        login = self.client.post(
            "/users/login", json={"email": email, "password": PASSWORD}, name="/users/login"
        )
        if login.status_code == 200:
            body: dict[str, Any] = login.json()
            self.token, self.user_id = body["token"], body["userId"]

    def on_stop(self) -> None:
        if self.token:
            self.client.delete(
                f"/users/{self.user_id}", headers=self._auth(), name="/users/{userId}"
            )

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @task(6)
    def browse(self) -> None:
        self.client.get("/products?limit=20", name="/products")

    @task(3)
    def view_product(self) -> None:
        if PRODUCT_IDS:
            self.client.get(f"/products/{random.choice(PRODUCT_IDS)}", name="/products/{productId}")

    @task(2)
    def order(self) -> None:
        if not (self.token and PRODUCT_IDS):
            return
        line = {"productId": random.choice(PRODUCT_IDS), "quantity": 1}
        with self.client.post(
            "/orders",
            json={"items": [line], "shippingAddress": SHIP_TO},
            headers={**self._auth(), "Idempotency-Key": uuid.uuid4().hex},
            name="/orders (POST)",
            catch_response=True,
        ) as reply:
            if reply.status_code == 201:
                self.orders.append(reply.json()["orderId"])
                reply.success()

    @task(2)
    def my_orders(self) -> None:
        if self.token:
            self.client.get("/orders?limit=20", headers=self._auth(), name="/orders")

    @task(1)
    def read_order(self) -> None:
        if self.token and self.orders:
            self.client.get(
                f"/orders/{random.choice(self.orders)}",
                headers=self._auth(),
                name="/orders/{orderId}",
            )

    @task(1)
    def cancel(self) -> None:
        if self.token and self.orders:
            order_id = self.orders.pop()
            self.client.post(
                f"/orders/{order_id}/cancel", headers=self._auth(), name="/orders/{orderId}/cancel"
            )
