from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.stripe_event import StripeEvent
from ...models.webhook_result import WebhookResult
from ...types import Response


def _get_kwargs(
    *,
    body: StripeEvent,
    stripe_signature: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["Stripe-Signature"] = stripe_signature

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/payments/webhook",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | WebhookResult:
    if response.status_code == 200:
        response_200 = WebhookResult.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

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
) -> Response[Error | WebhookResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: StripeEvent,
    stripe_signature: str,
) -> Response[Error | WebhookResult]:
    """Payment provider notifications (Stripe-Signature verified)

    Args:
        stripe_signature (str):
        body (StripeEvent): A Stripe event (https://docs.stripe.com/api/events/object), sent as
            Stripe signed it: payment_intent.succeeded, .payment_failed and .canceled move the order
            in data.object.metadata.orderId; other types are acknowledged and ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | WebhookResult]
    """

    kwargs = _get_kwargs(
        body=body,
        stripe_signature=stripe_signature,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: StripeEvent,
    stripe_signature: str,
) -> Error | WebhookResult | None:
    """Payment provider notifications (Stripe-Signature verified)

    Args:
        stripe_signature (str):
        body (StripeEvent): A Stripe event (https://docs.stripe.com/api/events/object), sent as
            Stripe signed it: payment_intent.succeeded, .payment_failed and .canceled move the order
            in data.object.metadata.orderId; other types are acknowledged and ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | WebhookResult
    """

    return sync_detailed(
        client=client,
        body=body,
        stripe_signature=stripe_signature,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: StripeEvent,
    stripe_signature: str,
) -> Response[Error | WebhookResult]:
    """Payment provider notifications (Stripe-Signature verified)

    Args:
        stripe_signature (str):
        body (StripeEvent): A Stripe event (https://docs.stripe.com/api/events/object), sent as
            Stripe signed it: payment_intent.succeeded, .payment_failed and .canceled move the order
            in data.object.metadata.orderId; other types are acknowledged and ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | WebhookResult]
    """

    kwargs = _get_kwargs(
        body=body,
        stripe_signature=stripe_signature,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: StripeEvent,
    stripe_signature: str,
) -> Error | WebhookResult | None:
    """Payment provider notifications (Stripe-Signature verified)

    Args:
        stripe_signature (str):
        body (StripeEvent): A Stripe event (https://docs.stripe.com/api/events/object), sent as
            Stripe signed it: payment_intent.succeeded, .payment_failed and .canceled move the order
            in data.object.metadata.orderId; other types are acknowledged and ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | WebhookResult
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            stripe_signature=stripe_signature,
        )
    ).parsed
