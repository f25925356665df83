"""The data layer's conditional writes: each says what a failed condition means.

A domain function adds operations to a :class:`Transaction` and gives each one
``on_fail``: what it means when that operation's condition fails, either a
domain error to raise or a label the caller interprets. :func:`write` commits,
retries ``TransactionConflict`` (transient: the transaction raced another one
on the same item) with jittered backoff, and turns failed conditions back into
those meanings. Domain code never looks at cancellation reasons by position.
:func:`update_item` and :func:`delete_item` do the same for one-item writes.

Under faults: a transaction cancelled because DynamoDB throttled one of its items
(or throttled, unavailable or timed out as a whole) wrote nothing; it becomes a 503
``ServiceBusy`` right away, and the client's retry after ``Retry-After`` is the
backoff. Each attempt carries its own ``ClientRequestToken``, which botocore resends
on its own retries: if a timed-out attempt did commit, DynamoDB answers the resend
with success instead of applying it twice.
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.connection import Connection
from pynamodb.exceptions import (
    CancellationReason,
    DeleteError,
    PutError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.aws import watch
from chalicelib.config import get_settings
from chalicelib.errors import ServiceBusy, aws_error_code, is_transient

MAX_ATTEMPTS = 4
BASE_DELAY_SECONDS = 0.02
CONDITION_FAILED = "ConditionalCheckFailed"

# PynamoDB sends condition checks, then deletes, puts and updates, whatever order
# they were added in (pynamodb.connection.base.Connection.transact_write_items), and
# DynamoDB's cancellation reasons follow the sent order. This is the one place that
# knows; tests/unit/test_transactions.py pins it against the request PynamoDB builds.
_SEND_ORDER = ("check", "delete", "put", "update")


@functools.cache
def _connection() -> Connection:
    # One connection (and botocore client) per container, not one per request.
    settings = get_settings()
    return Connection(
        connect_timeout_seconds=settings.sdk_connect_timeout_seconds,
        read_timeout_seconds=settings.sdk_read_timeout_seconds,
        max_retry_attempts=settings.sdk_max_attempts - 1,
    )


def _key_attribute(model_cls: type[Model]) -> Attribute[Any]:
    return next(a for a in model_cls.get_attributes().values() if a.is_hash_key)


def _and(first: Condition, second: Condition | None) -> Condition:
    return first if second is None else first & second


class ConditionsFailed(Exception):
    """Conditions failed whose meanings are labels: ``(meaning, reason)`` in the order added."""

    def __init__(self, failures: list[tuple[object, CancellationReason]]) -> None:
        super().__init__(f"transaction conditions failed: {[m for m, _ in failures]}")
        self.failures = failures

    @property
    def meanings(self) -> list[object]:
        return [meaning for meaning, _ in self.failures]

    def reason(self, meaning: object) -> CancellationReason:
        return next(reason for m, reason in self.failures if m == meaning)


class Transaction:
    """One ``TransactWriteItems`` being built; every operation says what its failure means.

    ``update``, ``delete`` and ``require`` are conditional on the item existing (an
    update would otherwise create it), ``create`` on it not existing; ``condition``
    adds the business rule. Transactional updates carry no version condition.
    """

    def __init__(self, transaction: TransactWrite) -> None:
        self._transaction = transaction
        self._added: list[tuple[str, object]] = []

    def require(
        self,
        model_cls: type[Model],
        hash_key: str,
        *,
        on_fail: object,
        condition: Condition | None = None,
    ) -> None:
        """Write nothing, but only commit if this item exists (and meets ``condition``)."""
        condition = _and(_key_attribute(model_cls).exists(), condition)
        self._transaction.condition_check(model_cls, hash_key, condition=condition)
        self._added.append(("check", on_fail))

    def create(
        self,
        model: Model,
        *,
        on_fail: object,
        unless: Condition | None = None,
        return_old_item: bool = False,
    ) -> None:
        """Put ``model`` if no item has its key; ``unless`` names when one may be overwritten."""
        condition = _key_attribute(type(model)).does_not_exist()
        if unless is not None:
            condition = condition | unless
        self._transaction.save(
            model, condition=condition, return_values="ALL_OLD" if return_old_item else None
        )
        self._added.append(("put", on_fail))

    def update(
        self,
        model: Model,
        actions: Sequence[Action],
        *,
        on_fail: object,
        condition: Condition | None = None,
    ) -> None:
        condition = _and(_key_attribute(type(model)).exists(), condition)
        self._transaction.update(
            model, actions=list(actions), condition=condition, add_version_condition=False
        )
        self._added.append(("update", on_fail))

    def upsert(self, model: Model, actions: Sequence[Action]) -> None:
        """Update ``model``, creating it if missing (counters): it cannot fail a condition."""
        self._transaction.update(model, actions=list(actions), add_version_condition=False)
        self._added.append(("update", None))

    def delete(self, model: Model, *, on_fail: object, condition: Condition | None = None) -> None:
        condition = _and(_key_attribute(type(model)).exists(), condition)
        self._transaction.delete(model, condition=condition, add_version_condition=False)
        self._added.append(("delete", on_fail))

    def discard(self, model: Model) -> None:
        """Delete ``model`` if it exists (personal data going with its user): cannot fail."""
        self._transaction.delete(model, add_version_condition=False)
        self._added.append(("delete", None))

    def delete_if_present(self, model: Model, *, on_fail: object, condition: Condition) -> None:
        """Delete ``model`` if it meets ``condition``; an absent item is fine (nothing to do)."""
        condition = _key_attribute(type(model)).does_not_exist() | condition
        self._transaction.delete(model, condition=condition, add_version_condition=False)
        self._added.append(("delete", on_fail))

    def _sent_positions(self) -> list[int]:
        """Positions in ``_added``, in the order the operations are sent (and reasons listed)."""
        added = [kind for kind, _ in self._added]
        return [i for kind in _SEND_ORDER for i, other in enumerate(added) if other == kind]

    def sent_meanings(self) -> list[object]:
        return [self._added[i][1] for i in self._sent_positions()]

    def failures(self, exc: TransactWriteError) -> list[tuple[object, CancellationReason]]:
        """The operations whose condition failed, as ``(meaning, reason)`` in the order added."""
        reasons = exc.cancellation_reasons or []
        failed = {
            position: reason
            for position, reason in zip(self._sent_positions(), reasons, strict=False)
            if reason is not None and reason.code == CONDITION_FAILED
        }
        return [(self._added[i][1], failed[i]) for i in sorted(failed)]


def _failed_condition(exc: UpdateError | DeleteError) -> bool:
    return aws_error_code(exc) == "ConditionalCheckFailedException"


def update_item(
    model: Model,
    actions: Sequence[Action],
    *,
    on_fail: Exception,
    condition: Condition | None = None,
) -> None:
    """One ``UpdateItem`` of an existing item, also conditional on its version if it has one."""
    try:
        model.update(
            actions=list(actions), condition=_and(_key_attribute(type(model)).exists(), condition)
        )
    except UpdateError as exc:
        if _failed_condition(exc):
            raise on_fail from None
        raise


def put_item(model: Model, *, condition: Condition, on_fail: Exception) -> None:
    """One conditional ``PutItem`` (whole-item replacement, e.g. a cart)."""
    try:
        model.save(condition=condition, add_version_condition=False)
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise on_fail from None
        raise


def delete_item(model: Model, *, on_fail: Exception) -> None:
    """One ``DeleteItem`` of an existing item, whatever its version."""
    try:
        model.delete(condition=_key_attribute(type(model)).exists(), add_version_condition=False)
    except DeleteError as exc:
        if _failed_condition(exc):
            raise on_fail from None
        raise


def batch_get(keys: Sequence[tuple[type[Model], str]]) -> list[Model | None]:
    """Consistent reads of items across tables in one ``BatchGetItem`` (retrying unprocessed
    keys): one model or ``None`` per requested ``(model class, hash key)``, in order."""
    request: dict[str, dict[str, Any]] = {}
    for model_cls, hash_key in keys:
        table = request.setdefault(model_cls.Meta.table_name, {"Keys": [], "ConsistentRead": True})
        wire = {_key_attribute(model_cls).attr_name: {"S": hash_key}}
        if wire not in table["Keys"]:
            table["Keys"].append(wire)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    pending = request
    while pending:
        client = _connection().client
        watch(client)  # the request deadline, even before this container's first write
        answer = client.batch_get_item(RequestItems=pending)
        for table_name, items in answer.get("Responses", {}).items():
            for raw in items:
                model_cls = next(m for m, _ in keys if m.Meta.table_name == table_name)
                name = _key_attribute(model_cls).attr_name
                found[(table_name, raw[name]["S"])] = raw
        pending = answer.get("UnprocessedKeys") or {}
        if pending:
            time.sleep(random.uniform(0, BASE_DELAY_SECONDS))
    results: list[Model | None] = []
    for model_cls, hash_key in keys:
        raw = found.get((model_cls.Meta.table_name, hash_key))
        results.append(model_cls.from_raw_data(raw) if raw is not None else None)
    return results


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in exc.cancellation_reasons or []]


def is_conflict(exc: TransactWriteError) -> bool:
    return "TransactionConflict" in cancellation_codes(exc) or (
        aws_error_code(exc) == "TransactionInProgressException"
    )


def raise_failures(transaction: Transaction, exc: TransactWriteError) -> None:
    """The one place a failed condition becomes a domain error.

    The first failed operation whose meaning is an exception raises it; failures
    that are all labels raise :class:`ConditionsFailed`; a cancellation without a
    failed condition (throttling, validation) re-raises ``exc`` itself.
    """
    failures = transaction.failures(exc)
    if not failures:
        raise exc
    for meaning, _ in failures:
        if isinstance(meaning, BaseException):
            raise meaning from None
    raise ConditionsFailed(failures) from None


def write(
    build: Callable[[Transaction], None],
    *,
    attempts: int = MAX_ATTEMPTS,
    retry_if: Callable[[ConditionsFailed], bool] | None = None,
) -> None:
    """Build and commit one ``TransactWriteItems``; ``build`` is called again on each retry.

    ``retry_if`` may adjust what ``build`` will add and return ``True`` to try again;
    it must make progress (each retry it allows drops an operation), since only
    ``TransactionConflict`` retries are bounded by ``attempts``.
    """
    attempt = 0
    connection = _connection()
    watch(connection.client)
    while True:
        pending = TransactWrite(connection=connection, client_request_token=str(uuid.uuid4()))
        transaction = Transaction(pending)
        try:
            with pending:
                build(transaction)
            return
        except TransactWriteError as exc:
            if is_conflict(exc):
                attempt += 1
                if attempt >= attempts:
                    break
                time.sleep(random.uniform(0, BASE_DELAY_SECONDS * 2 ** (attempt - 1)))
                continue
            if is_transient(exc):  # throttled or unavailable: no condition was evaluated
                raise ServiceBusy(
                    "the service is busy; please retry", dependency="DynamoDB"
                ) from exc
            try:
                raise_failures(transaction, exc)
            except ConditionsFailed as failed:
                if retry_if is None or not retry_if(failed):
                    raise
    raise ServiceBusy(
        "the request conflicted with concurrent updates; please retry", dependency="DynamoDB"
    )
