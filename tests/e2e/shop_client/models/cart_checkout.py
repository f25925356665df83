from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.address_input import AddressInput


T = TypeVar("T", bound="CartCheckout")


@_attrs_define
class CartCheckout:
    """
    Attributes:
        expected_total (float | str | Unset):
        discount_code (str | Unset): 3-32 letters, digits, - and _; any case (compared upper-cased)
        shipping_address (AddressInput | Unset): A postal address (docs/api.md#addresses)
        address_id (str | Unset): An address of your book; with neither, the book's default address
        shipping_method (str | Unset): An id of GET /shipping/options for the address's country; absent: the one with
            the lowest flat price
    """

    expected_total: float | str | Unset = UNSET
    discount_code: str | Unset = UNSET
    shipping_address: AddressInput | Unset = UNSET
    address_id: str | Unset = UNSET
    shipping_method: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        expected_total: float | str | Unset
        if isinstance(self.expected_total, Unset):
            expected_total = UNSET
        else:
            expected_total = self.expected_total

        discount_code = self.discount_code

        shipping_address: dict[str, Any] | Unset = UNSET
        if not isinstance(self.shipping_address, Unset):
            shipping_address = self.shipping_address.to_dict()

        address_id = self.address_id

        shipping_method = self.shipping_method

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if expected_total is not UNSET:
            field_dict["expectedTotal"] = expected_total
        if discount_code is not UNSET:
            field_dict["discountCode"] = discount_code
        if shipping_address is not UNSET:
            field_dict["shippingAddress"] = shipping_address
        if address_id is not UNSET:
            field_dict["addressId"] = address_id
        if shipping_method is not UNSET:
            field_dict["shippingMethod"] = shipping_method

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.address_input import AddressInput

        d = dict(src_dict)

        def _parse_expected_total(data: object) -> float | str | Unset:
            if isinstance(data, Unset):
                return data
            return cast(float | str | Unset, data)

        expected_total = _parse_expected_total(d.pop("expectedTotal", UNSET))

        discount_code = d.pop("discountCode", UNSET)

        _shipping_address = d.pop("shippingAddress", UNSET)
        shipping_address: AddressInput | Unset
        if isinstance(_shipping_address, Unset):
            shipping_address = UNSET
        else:
            shipping_address = AddressInput.from_dict(_shipping_address)

        address_id = d.pop("addressId", UNSET)

        shipping_method = d.pop("shippingMethod", UNSET)

        cart_checkout = cls(
            expected_total=expected_total,
            discount_code=discount_code,
            shipping_address=shipping_address,
            address_id=address_id,
            shipping_method=shipping_method,
        )

        return cart_checkout
