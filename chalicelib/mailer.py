"""Emails through Amazon SES (``SendEmail``, plain text): buyer emails (the subscriber)
and account links (the API, chalicelib.account_links).

Only the order id and the event type may be logged around a send: never the
recipient's address, nor the message.
"""

from __future__ import annotations

import functools
import logging

from botocore.exceptions import ClientError

from chalicelib.aws import client
from chalicelib.config import get_settings
from chalicelib.notifications import Email

logger = logging.getLogger(__name__)

# SES refuses these for good: retrying the same message cannot succeed.
# (In the SES sandbox, an unverified recipient is a MessageRejected.)
PERMANENT_ERRORS = frozenset(
    {
        "MessageRejected",
        "InvalidParameterValue",
        "MailFromDomainNotVerifiedException",
        "ConfigurationSetDoesNotExistException",
    }
)


class EmailNotSent(Exception):
    """SES did not take the message this time (throttled, unavailable): retry the delivery.

    Carries only SES's error code: its message could quote an address.
    """

    def __init__(self, code: str) -> None:
        super().__init__(f"SES SendEmail failed with {code}; the delivery will be retried")
        self.code = code


class EmailRejected(Exception):
    """SES refused this message permanently; sending it again would fail the same way."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sender() -> str | None:
    """The configured sender, or ``None`` (buyer emails off, said once per container)."""
    configured = get_settings().email_sender
    if not configured:
        _log_disabled_once()
    return configured


@functools.cache
def _log_disabled_once() -> None:
    logger.info("buyer emails are off: EMAIL_SENDER is not set for this stage")


def send(to: str, email: Email) -> str:
    """Send one plain-text email; returns SES's message id.

    Raises :class:`EmailRejected` for a permanent refusal and :class:`EmailNotSent` for
    any other SES error (throttling included); a network error propagates as it is.
    The caller retries the delivery for everything but :class:`EmailRejected`.
    """
    source = sender()
    if source is None:
        raise RuntimeError("send() called with buyer emails off")
    try:
        response = client("ses").send_email(
            Source=source,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": email.text, "Charset": "UTF-8"}},
            },
        )
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in PERMANENT_ERRORS:
            raise EmailRejected(code) from None
        raise EmailNotSent(code) from None
    return str(response["MessageId"])
