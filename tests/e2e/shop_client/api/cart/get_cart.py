from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.cart import Cart
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    country: str | Unset = UNSET,
    region: str | Unset = UNSET,
    shipping_method: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["country"] = country

    params["region"] = region

    params["shippingMethod"] = shipping_method

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/cart",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Cart | Error:
    if response.status_code == 200:
        response_200 = Cart.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    response_default = Error.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Cart | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    country: str | Unset = UNSET,
    region: str | Unset = UNSET,
    shipping_method: str | Unset = UNSET,
) -> Response[Cart | Error]:
    """Read your cart, priced now (for your default address, or the destination asked)

    Args:
        country (str | Unset):
        region (str | Unset):
        shipping_method (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Cart | Error]
    """

    kwargs = _get_kwargs(
        country=country,
        region=region,
        shipping_method=shipping_method,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    country: str | Unset = UNSET,
    region: str | Unset = UNSET,
    shipping_method: str | Unset = UNSET,
) -> Cart | Error | None:
    """Read your cart, priced now (for your default address, or the destination asked)

    Args:
        country (str | Unset):
        region (str | Unset):
        shipping_method (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Cart | Error
    """

    return sync_detailed(
        client=client,
        country=country,
        region=region,
        shipping_method=shipping_method,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    country: str | Unset = UNSET,
    region: str | Unset = UNSET,
    shipping_method: str | Unset = UNSET,
) -> Response[Cart | Error]:
    """Read your cart, priced now (for your default address, or the destination asked)

    Args:
        country (str | Unset):
        region (str | Unset):
        shipping_method (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Cart | Error]
    """

    kwargs = _get_kwargs(
        country=country,
        region=region,
        shipping_method=shipping_method,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    country: str | Unset = UNSET,
    region: str | Unset = UNSET,
    shipping_method: str | Unset = UNSET,
) -> Cart | Error | None:
    """Read your cart, priced now (for your default address, or the destination asked)

    Args:
        country (str | Unset):
        region (str | Unset):
        shipping_method (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Cart | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            country=country,
            region=region,
            shipping_method=shipping_method,
        )
    ).parsed
