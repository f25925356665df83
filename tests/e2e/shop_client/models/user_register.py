from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="UserRegister")


@_attrs_define
class UserRegister:
    """
    Attributes:
        email (str): Compared and stored NFKC-normalised and lower-cased. Characters beyond U+FFFF that the same rule
            refuses are refused by the server (format printable, or printable-email for emails), not by the pattern, which
            must compile as an ECMAScript RegExp without the u flag.
        name (str): Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable, or
            printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u flag.
        password (str): Characters beyond U+FFFF that the same rule refuses are refused by the server (format printable,
            or printable-email for emails), not by the pattern, which must compile as an ECMAScript RegExp without the u
            flag.
    """

    email: str
    name: str
    password: str

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        name = self.name

        password = self.password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "name": name,
                "password": password,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        email = d.pop("email")

        name = d.pop("name")

        password = d.pop("password")

        user_register = cls(
            email=email,
            name=name,
            password=password,
        )

        return user_register
