"""What the local stack's emails would have been: SES sends and SNS email deliveries.

moto's SES keeps every accepted ``SendEmail`` in ``ses_backends[account][region]
.sent_messages`` (oldest first) but no time; the emulator stamps each message when
the SES request that sent it completes. moto's SNS delivers nothing to ``email``
subscriptions and records only the published message per topic
(``Topic.sent_notifications``), not its ``MessageStructure``: a message that is a JSON
object with a string ``default`` is read as structured, and an email subscriber
gets its ``email`` key, else ``default`` (moto's own rule for the protocols it
delivers, ``Subscription._parse_message_structure``).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from devstack.lambdas import LOCAL_ACCOUNT_ID


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Outbox:
    def __init__(self, region: str = "us-east-1", account_id: str = LOCAL_ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id
        self._sent_at: dict[str, str] = {}
        self._lock = threading.Lock()

    def _sent_messages(self) -> list[Any]:
        from moto.ses.models import ses_backends

        return list(ses_backends[self.account_id][self.region].sent_messages)

    def stamp(self) -> None:
        """Record the time of every message not stamped yet (called after each SES call)."""
        now = _now()
        with self._lock:
            for message in self._sent_messages():
                self._sent_at.setdefault(message.id, now)

    def emails(self) -> list[dict[str, Any]]:
        """The emails sent so far, oldest first: ``to``, ``subject``, ``text``, ``sentAt``."""
        self.stamp()
        return [
            {
                "to": list(message.destinations.get("ToAddresses", [])),
                "subject": message.subject,
                "text": message.body,
                "sentAt": self._sent_at[message.id],
            }
            for message in self._sent_messages()
        ]

    def sns_email_deliveries(self) -> list[dict[str, Any]]:
        """What each ``email`` subscription of each topic would have received, oldest first."""
        from moto.sns.models import sns_backends

        backend = sns_backends[self.account_id][self.region]
        deliveries = []
        for topic in list(backend.topics.values()):
            endpoints = [
                s.endpoint
                for s in list(backend.subscriptions.values())
                if s.topic.arn == topic.arn and s.protocol == "email"
            ]
            for message_id, message, subject, _attributes, _group in list(topic.sent_notifications):
                for endpoint in endpoints:
                    deliveries.append(
                        {
                            "topicArn": topic.arn,
                            "to": endpoint,
                            "messageId": message_id,
                            "subject": subject,
                            "text": for_protocol(message, "email"),
                        }
                    )
        return deliveries


def for_protocol(message: str, protocol: str) -> str:
    try:
        structure = json.loads(message)
    except ValueError:
        return message
    if isinstance(structure, dict) and isinstance(structure.get("default"), str):
        return str(structure.get(protocol) or structure["default"])
    return message
