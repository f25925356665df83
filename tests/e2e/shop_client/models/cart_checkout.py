from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CartCheckout")


@_attrs_define
class CartCheckout:
    """
    Attributes:
        expected_total (float | str | Unset):
        discount_code (str | Unset): 3-32 letters, digits, - and _; any case (compared upper-cased)
    """

    expected_total: float | str | Unset = UNSET
    discount_code: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        expected_total: float | str | Unset
        if isinstance(self.expected_total, Unset):
            expected_total = UNSET
        else:
            expected_total = self.expected_total

        discount_code = self.discount_code

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if expected_total is not UNSET:
            field_dict["expectedTotal"] = expected_total
        if discount_code is not UNSET:
            field_dict["discountCode"] = discount_code

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_expected_total(data: object) -> float | str | Unset:
            if isinstance(data, Unset):
                return data
            return cast(float | str | Unset, data)

        expected_total = _parse_expected_total(d.pop("expectedTotal", UNSET))

        discount_code = d.pop("discountCode", UNSET)

        cart_checkout = cls(
            expected_total=expected_total,
            discount_code=discount_code,
        )

        return cart_checkout
