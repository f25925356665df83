from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_line_input import OrderLineInput


T = TypeVar("T", bound="OrderCreate")


@_attrs_define
class OrderCreate:
    """
    Attributes:
        items (list[OrderLineInput]):
        user_id (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by the server (format
            printable, or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp
            without the u flag.
        expected_total (float | str | Unset):
        discount_code (str | Unset): 3-32 letters, digits, - and _; any case (compared upper-cased)
    """

    items: list[OrderLineInput]
    user_id: str | Unset = UNSET
    expected_total: float | str | Unset = UNSET
    discount_code: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        user_id = self.user_id

        expected_total: float | str | Unset
        if isinstance(self.expected_total, Unset):
            expected_total = UNSET
        else:
            expected_total = self.expected_total

        discount_code = self.discount_code

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "items": items,
            }
        )
        if user_id is not UNSET:
            field_dict["userId"] = user_id
        if expected_total is not UNSET:
            field_dict["expectedTotal"] = expected_total
        if discount_code is not UNSET:
            field_dict["discountCode"] = discount_code

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_line_input import OrderLineInput

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = OrderLineInput.from_dict(items_item_data)

            items.append(items_item)

        user_id = d.pop("userId", UNSET)

        def _parse_expected_total(data: object) -> float | str | Unset:
            if isinstance(data, Unset):
                return data
            return cast(float | str | Unset, data)

        expected_total = _parse_expected_total(d.pop("expectedTotal", UNSET))

        discount_code = d.pop("discountCode", UNSET)

        order_create = cls(
            items=items,
            user_id=user_id,
            expected_total=expected_total,
            discount_code=discount_code,
        )

        return order_create
