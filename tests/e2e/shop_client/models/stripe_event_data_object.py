from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.stripe_event_data_object_metadata import StripeEventDataObjectMetadata


T = TypeVar("T", bound="StripeEventDataObject")


@_attrs_define
class StripeEventDataObject:
    """
    Attributes:
        id (str): The PaymentIntent
        metadata (StripeEventDataObjectMetadata | Unset):
    """

    id: str
    metadata: StripeEventDataObjectMetadata | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
            }
        )
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.stripe_event_data_object_metadata import (
            StripeEventDataObjectMetadata,
        )

        d = dict(src_dict)
        id = d.pop("id")

        _metadata = d.pop("metadata", UNSET)
        metadata: StripeEventDataObjectMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = StripeEventDataObjectMetadata.from_dict(_metadata)

        stripe_event_data_object = cls(
            id=id,
            metadata=metadata,
        )

        stripe_event_data_object.additional_properties = d
        return stripe_event_data_object

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
