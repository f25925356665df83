"""The audit trail: who did what to which entity, when, and the fields it changed.

A staff action (and an operator's script) calls :func:`record` while building its own
transaction, so the entry is written if and only if the change is. An entry is written
once per scope it is listed in (everything, its entity type, its entity: three items in
the users table, under ``AUDIT#<entryId>#<n>``) and the sparse ``audit`` index lists each
scope newest first. Nothing in the API changes or deletes an entry (docs/operations.md).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.clock import now_iso
from chalicelib.errors import ValidationError
from chalicelib.models import AUDIT_PREFIX, AuditEntry
from chalicelib.pagination import paginate
from chalicelib.schemas import AUDIT_ENTITIES, AUDIT_ENTITY_PATTERN
from chalicelib.text import echo, first_forbidden
from chalicelib.transactions import Transaction

OPERATOR = "operator"  # the actor of make scripts (scripts/promote_admin.py)
ENTITIES = AUDIT_ENTITIES
ALL_SCOPE = "*"
_ENTITY_FILTER = re.compile(AUDIT_ENTITY_PATTERN)
_KEY_NAMES = {"pk", "auditScope", "auditAt"}


@dataclass(frozen=True)
class EntryWritten:
    """The entry's (new, random) id is taken: only this request's own earlier attempt can
    have written it (botocore resent a transaction whose answer was lost), so the change it
    records is made too. A failed condition's meaning (chalicelib/transactions.py)."""


def changed_fields(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Only the fields that differ (a create has no before, a delete no after)."""
    if before is None or after is None:
        return (None if before is None else dict(before)), (None if after is None else dict(after))
    names = [n for n in {**before, **after} if before.get(n) != after.get(n)]
    return (
        {n: before[n] for n in names if n in before},
        {n: after[n] for n in names if n in after},
    )


def _json(fields: dict[str, Any] | None) -> str | None:
    return None if fields is None else json.dumps(fields, sort_keys=True, default=str)


def record(
    tx: Transaction,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Add the entry's writes to ``tx``: ``actor`` (a staff user id, or ``"operator"``)
    did ``action`` (``"product.update"``) to ``entity`` ``entity_id``; ``before`` and
    ``after`` are the entity's fields as the API shows them (only changed ones are kept)."""
    if entity not in ENTITIES:
        raise ValueError(f"unknown audit entity {entity!r}: add it to audit.ENTITIES")
    entry_id = str(uuid.uuid4())
    at = now_iso()
    old, new = changed_fields(before, after)
    scopes = (ALL_SCOPE, entity, f"{entity}:{entity_id}")
    for n, scope in enumerate(scopes):
        item = AuditEntry(
            f"{AUDIT_PREFIX}{entry_id}#{n}",
            scope=scope,
            sort_key=f"{at}#{entry_id}",
            entry_id=entry_id,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            at=at,
            before=_json(old),
            after=_json(new),
        )
        tx.create(item, on_fail=EntryWritten())


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "entryId": entry.entry_id,
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entityId": entry.entity_id,
        "at": entry.at,
        "before": None if entry.before is None else json.loads(entry.before),
        "after": None if entry.after is None else json.loads(entry.after),
    }


def parse_scope(entity: str | None) -> str:
    """``?entity=product`` (one type) or ``?entity=product:<id>`` (one entity); none: all."""
    if entity is None:
        return ALL_SCOPE
    # fullmatch: Python's "$" also matches before a final newline.
    if not _ENTITY_FILTER.fullmatch(entity) or first_forbidden(entity) is not None:
        raise ValidationError(
            f"entity must be one of {', '.join(ENTITIES)}, optionally followed by :<id>;"
            f" not {echo(entity)}",
            field="entity",
        )
    return entity


def list_entries(entity: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """Entries newest first: all of them, one entity type's, or one entity's."""
    scope = parse_scope(entity)
    items, next_cursor = paginate(
        lambda **kw: AuditEntry.by_scope.query(scope, scan_index_forward=False, **kw),
        limit=limit,
        cursor=cursor,
        key_names=_KEY_NAMES,
        fixed={"auditScope": scope},
    )
    return {"items": [entry_view(e) for e in items], "nextCursor": next_cursor}
