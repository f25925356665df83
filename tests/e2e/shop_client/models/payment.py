from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Payment")


@_attrs_define
class Payment:
    """Only with a payment provider (docs/payments.md)

    Attributes:
        provider (str):
        payment_intent_id (str):
        expires_at (datetime.datetime):
        client_secret (str | Unset): While AWAITING_PAYMENT: confirm the payment with it
        publishable_key (str | Unset): While AWAITING_PAYMENT: the stage's public Stripe key
        api_base (str | Unset): While AWAITING_PAYMENT: where the browser calls Stripe
    """

    provider: str
    payment_intent_id: str
    expires_at: datetime.datetime
    client_secret: str | Unset = UNSET
    publishable_key: str | Unset = UNSET
    api_base: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        provider = self.provider

        payment_intent_id = self.payment_intent_id

        expires_at = self.expires_at.isoformat()

        client_secret = self.client_secret

        publishable_key = self.publishable_key

        api_base = self.api_base

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "provider": provider,
                "paymentIntentId": payment_intent_id,
                "expiresAt": expires_at,
            }
        )
        if client_secret is not UNSET:
            field_dict["clientSecret"] = client_secret
        if publishable_key is not UNSET:
            field_dict["publishableKey"] = publishable_key
        if api_base is not UNSET:
            field_dict["apiBase"] = api_base

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        provider = d.pop("provider")

        payment_intent_id = d.pop("paymentIntentId")

        expires_at = datetime.datetime.fromisoformat(d.pop("expiresAt"))

        client_secret = d.pop("clientSecret", UNSET)

        publishable_key = d.pop("publishableKey", UNSET)

        api_base = d.pop("apiBase", UNSET)

        payment = cls(
            provider=provider,
            payment_intent_id=payment_intent_id,
            expires_at=expires_at,
            client_secret=client_secret,
            publishable_key=publishable_key,
            api_base=api_base,
        )

        payment.additional_properties = d
        return payment

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
