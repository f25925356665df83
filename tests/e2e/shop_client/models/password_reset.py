from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PasswordReset")


@_attrs_define
class PasswordReset:
    """
    Attributes:
        token (str): From an emailed link: <userId>.<secret>
        password (str): Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable,
            or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u
            flag.
    """

    token: str
    password: str

    def to_dict(self) -> dict[str, Any]:
        token = self.token

        password = self.password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "token": token,
                "password": password,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        token = d.pop("token")

        password = d.pop("password")

        password_reset = cls(
            token=token,
            password=password,
        )

        return password_reset
