"""Sharded index keys: spread one logical partition over N, merge them back on read.

An index whose partition key takes few values (a status, a constant) funnels
every write of that value into one DynamoDB partition, capped at 1,000 WCU/s,
and a throttled GSI holds back writes to its base table. Writing the key as
``<value>#<shard>``, with ``shard = stable_hash(item id) % SHARDS``, spreads
the writes over ``SHARDS`` partitions; a read queries every shard and merges
the results in sort order.

Changing ``SHARDS``: the shard of an item is derived from its id, so rows
written with another N carry keys of the old layout. Raise (or lower) the
constant, deploy, then run ``make migrate STAGE=<stage>``, which rewrites
every row's sharded keys for the new N (idempotent, resumable). Until it has
finished, a listing may miss rows that still carry old shard numbers beyond
the new N (when lowering) or find them later (when raising): do it in a quiet
hour.

A page's cursor is opaque: for each shard, the key of the last item returned
from it (or that the shard is done). The first round asks each shard for
``s = ceil(limit / N) + 1`` items (an even share plus one look-ahead), later
rounds only ask the shards whose buffered items ran out (see
:func:`merged_page`). Items read but not returned are read again by the next page.

Guaranteed, whatever the data (N shards, L = limit; barring DynamoDB's 1 MB
page cut): a shard is refilled only once its buffer is empty, so only its last
fill can hold unreturned items, no fill exceeds ``s``, and the shard that gave
the page's last item returned at least one of its last fill. Hence

* items read <= ``L + N * (ceil(L / N) + 1) - 1`` (43 for L = 20, N = 4);
* queries <= ``N + L // 2`` (every fill but a shard's last is consumed whole and
  holds at least 2 items).

The worst case is all the newest items in one shard: the other shards' first
shares are read for nothing. An exhaustive search over N = 4 gives 38 items in 8
queries for L = 20, 178 in 13 for L = 100 (tests/api/test_sharded_listing.py
builds that case). With ids hashed evenly, the usual case, a page of 20 reads
24-30 items in 4-7 queries. The strict ``limit + N`` would need one query per
returned item, which costs more read units (docs/capacity.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from chalicelib.errors import ValidationError
from chalicelib.pagination import CURSOR_INVALID, seal, unseal

SHARDS = 4
"""How many partitions a sharded index key is spread over (see the module docstring)."""

T = TypeVar("T")
Key = dict[str, Any]  # a DynamoDB key in wire format: {"name": {"S": "..."}}

_DONE = "done"


def shard_of(item_id: str, shards: int = SHARDS) -> int:
    """A stable shard number for an id (Python's ``hash`` is salted per process)."""
    digest = hashlib.blake2b(item_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def sharded_key(value: str, item_id: str, shards: int = SHARDS) -> str:
    """The partition key value ``<value>#<shard>`` an item with this id is written under."""
    return f"{value}#{shard_of(item_id, shards)}"


def shard_keys(value: str, shards: int = SHARDS) -> list[str]:
    """Every partition key value a read of ``value`` must query, in shard order."""
    return [f"{value}#{shard}" for shard in range(shards)]


def _invalid() -> ValidationError:
    return ValidationError(CURSOR_INVALID)


def _valid_key(key: object, key_names: set[str]) -> bool:
    return (
        isinstance(key, dict)
        and set(key) == key_names
        and all(
            isinstance(v, dict)
            and len(v) == 1
            and isinstance(v.get("S"), str)
            and 0 < len(v["S"]) <= 1024
            and v["S"].isprintable()
            for v in key.values()
        )
    )


def _context(partitions: list[str], key_names: set[str]) -> str:
    """What a merged cursor is bound to: the shards' partitions and the key attributes."""
    return json.dumps(["shards", partitions, sorted(key_names)])


def encode_positions(
    positions: list[Key | str | None], partitions: list[str], key_names: set[str]
) -> str:
    return seal(positions, _context(partitions, key_names))


def decode_positions(
    cursor: str | None, shards: int, key_names: set[str], partitions: list[str], hash_name: str
) -> list[Key | str | None]:
    """Per shard: ``None`` (start), a start key, or ``"done"``; anything else is a 400."""
    if cursor is None:
        return [None] * shards
    positions = unseal(cursor, _context(partitions, key_names))
    # Defence in depth: a sealed cursor was written by encode_positions.
    if not isinstance(positions, list) or len(positions) != shards:
        raise _invalid()
    for partition, position in zip(partitions, positions, strict=True):
        if position is None or position == _DONE:
            continue
        if not _valid_key(position, key_names) or position[hash_name]["S"] != partition:
            raise _invalid()
    if all(p == _DONE for p in positions):
        raise _invalid()
    return positions


@dataclass
class _Shard(Generic[T]):
    partition: str
    start: Key | None
    done: bool = False
    buffer: list[tuple[T, Key]] = field(default_factory=list)
    last_returned: Key | None = None
    returned_any: bool = False


@dataclass
class PageRead:
    """What one page cost: for tests and ``make bench``."""

    queries: int = 0
    items_read: int = 0


def merged_page(
    query: Callable[[str, Key | None, int], tuple[list[tuple[T, Key]], Key | None]],
    sort_key: Callable[[T], Any],
    *,
    partitions: list[str],
    limit: int,
    cursor: str | None,
    key_names: set[str],
    hash_name: str,
    descending: bool = False,
    stats: PageRead | None = None,
) -> tuple[list[T], str | None]:
    """One page of the shards' items merged in order, and the cursor of the next one.

    ``query(partition, start_key, n)`` returns up to ``n`` items of one shard in
    index order, each with its DynamoDB key, and the key to resume after (or
    ``None`` when the shard is exhausted). ``sort_key`` gives the order the
    index sorts in; ``descending`` for newest-first indexes.
    """
    positions = decode_positions(cursor, len(partitions), key_names, partitions, hash_name)
    shards: list[_Shard[T]] = [
        _Shard(p, None if pos in (None, _DONE) else pos, done=pos == _DONE)  # type: ignore[arg-type]
        for p, pos in zip(partitions, positions, strict=True)
    ]
    stats = stats or PageRead()
    taken: list[T] = []

    def refill(shard: _Shard[T], want: int) -> None:
        items, resume = query(shard.partition, shard.start, want)
        stats.queries += 1
        stats.items_read += len(items)
        shard.buffer.extend(items)
        shard.start = resume
        # Fewer items than asked and no key to resume from: nothing more in this shard.
        shard.done = resume is None

    def ranked(shard_index: int) -> Any:
        return sort_key(shards[shard_index].buffer[0][0])

    share = math.ceil(limit / len(shards)) + 1
    for shard in shards:
        if not shard.done:
            refill(shard, share)
    while len(taken) < limit:
        starving = [s for s in shards if not s.buffer and not s.done]
        if starving:
            want = math.ceil((limit - len(taken)) / len(shards)) + 1
            for shard in starving:
                refill(shard, want)
            continue
        live = [i for i, s in enumerate(shards) if s.buffer]
        if not live:
            break
        pick = (max if descending else min)(
            live, key=lambda i: (ranked(i), -i if descending else i)
        )
        item, key = shards[pick].buffer.pop(0)
        taken.append(item)
        shards[pick].last_returned = key
        shards[pick].returned_any = True

    next_positions: list[Key | str | None] = []
    more = False
    for shard, original in zip(shards, positions, strict=True):
        if shard.buffer or not shard.done:
            more = True
        if shard.returned_any:
            position: Key | str | None = shard.last_returned
        else:
            position = original
        if not shard.buffer and shard.done:
            position = _DONE
        next_positions.append(position)
    return taken, (encode_positions(next_positions, partitions, key_names) if more else None)
