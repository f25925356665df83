from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.shipping_options import ShippingOptions
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    country: str,
    subtotal: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["country"] = country

    params["subtotal"] = subtotal

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/shipping/options",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | ShippingOptions:
    if response.status_code == 200:
        response_200 = ShippingOptions.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

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
) -> Response[Error | ShippingOptions]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    country: str,
    subtotal: str | Unset = UNSET,
) -> Response[Error | ShippingOptions]:
    """Shipping methods to a country, priced for a subtotal

    Args:
        country (str):
        subtotal (str | Unset): USD, a decimal string with at most 2 decimals (responses: exactly
            2)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ShippingOptions]
    """

    kwargs = _get_kwargs(
        country=country,
        subtotal=subtotal,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    country: str,
    subtotal: str | Unset = UNSET,
) -> Error | ShippingOptions | None:
    """Shipping methods to a country, priced for a subtotal

    Args:
        country (str):
        subtotal (str | Unset): USD, a decimal string with at most 2 decimals (responses: exactly
            2)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ShippingOptions
    """

    return sync_detailed(
        client=client,
        country=country,
        subtotal=subtotal,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    country: str,
    subtotal: str | Unset = UNSET,
) -> Response[Error | ShippingOptions]:
    """Shipping methods to a country, priced for a subtotal

    Args:
        country (str):
        subtotal (str | Unset): USD, a decimal string with at most 2 decimals (responses: exactly
            2)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ShippingOptions]
    """

    kwargs = _get_kwargs(
        country=country,
        subtotal=subtotal,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    country: str,
    subtotal: str | Unset = UNSET,
) -> Error | ShippingOptions | None:
    """Shipping methods to a country, priced for a subtotal

    Args:
        country (str):
        subtotal (str | Unset): USD, a decimal string with at most 2 decimals (responses: exactly
            2)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ShippingOptions
    """

    return (
        await asyncio_detailed(
            client=client,
            country=country,
            subtotal=subtotal,
        )
    ).parsed
