from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.order_page import OrderPage
from ...models.order_status import OrderStatus
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    status: OrderStatus | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["cursor"] = cursor

    params["userId"] = user_id

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/orders",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | OrderPage:
    if response.status_code == 200:
        response_200 = OrderPage.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

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
) -> Response[Error | OrderPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    status: OrderStatus | Unset = UNSET,
) -> Response[Error | OrderPage]:
    """List orders, newest first

    Args:
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):
        user_id (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by
            the server (format printable, or printable-email for emails), not by the pattern, which
            must compile as an ECMAScript RegExp without the u flag.
        status (OrderStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | OrderPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        user_id=user_id,
        status=status,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    status: OrderStatus | Unset = UNSET,
) -> Error | OrderPage | None:
    """List orders, newest first

    Args:
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):
        user_id (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by
            the server (format printable, or printable-email for emails), not by the pattern, which
            must compile as an ECMAScript RegExp without the u flag.
        status (OrderStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | OrderPage
    """

    return sync_detailed(
        client=client,
        limit=limit,
        cursor=cursor,
        user_id=user_id,
        status=status,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    status: OrderStatus | Unset = UNSET,
) -> Response[Error | OrderPage]:
    """List orders, newest first

    Args:
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):
        user_id (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by
            the server (format printable, or printable-email for emails), not by the pattern, which
            must compile as an ECMAScript RegExp without the u flag.
        status (OrderStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | OrderPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        user_id=user_id,
        status=status,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    status: OrderStatus | Unset = UNSET,
) -> Error | OrderPage | None:
    """List orders, newest first

    Args:
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):
        user_id (str | Unset): Characters beyond U+FFFF that the same rule refuses are refused by
            the server (format printable, or printable-email for emails), not by the pattern, which
            must compile as an ECMAScript RegExp without the u flag.
        status (OrderStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | OrderPage
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            cursor=cursor,
            user_id=user_id,
            status=status,
        )
    ).parsed
