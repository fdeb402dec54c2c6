"""The audit log: append-only entries, each chained to the previous one by SHA-256.

Who read or changed what — logins, tokens, identity reads (field names and purpose, never
values), exports, erasures, links, key rotations, refused accesses. The database refuses
UPDATE and DELETE on the table (triggers, see migrations); `verify` recomputes the chain
and names the first entry that was altered or whose predecessor was deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor
from cohort.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    body = {
        "id": entry.id,
        "at": entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_user_id": entry.actor_user_id,
        "actor_role": entry.actor_role,
        "actor_structure_id": entry.actor_structure_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "fields": entry.fields,
        "purpose": entry.purpose,
        "outcome": entry.outcome,
        "details": entry.details,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


def append(session: Session, actor: Actor, action: str, *, now: dt.datetime,
           target_type: str | None = None, target_id: Any = None,
           fields: Iterable[str] = (), purpose: str | None = None, outcome: str = "ok",
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry to the chain (in the caller's transaction)."""
    head = session.execute(
        sa.select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    entry = AuditEntry(
        id=head.last_id + 1,
        at=now.astimezone(dt.UTC),
        actor_user_id=actor.user_id,
        actor_role=str(actor.role),
        actor_structure_id=actor.structure_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        fields=sorted(fields),
        purpose=purpose,
        outcome=outcome,
        details=details or {},
        prev_hash=head.last_hash,
        hash="",
    )
    entry.hash = _digest(head.last_hash, entry)
    session.add(entry)
    head.last_id = entry.id
    head.last_hash = entry.hash
    session.flush()
    return entry


@dataclass(frozen=True)
class Problem:
    entry_id: int
    reason: str


def verify(session: Session) -> list[Problem]:
    """Recompute the chain; every altered entry, gap or broken link is a problem."""
    head = session.execute(sa.select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    problems: list[Problem] = []
    expected_id = head.purged_through + 1
    prev_hash: str | None = None if head.purged_through else GENESIS
    for entry in _entries(session):
        if entry.id != expected_id:
            problems.append(Problem(expected_id, f"entries {expected_id}..{entry.id - 1} "
                                                 "are missing (deleted)"))
            prev_hash = None
        if prev_hash is not None and entry.prev_hash != prev_hash:
            problems.append(Problem(entry.id, "does not follow the previous entry "
                                              "(an entry before it was altered or removed)"))
        if _digest(entry.prev_hash, entry) != entry.hash:
            problems.append(Problem(entry.id, "content altered (hash mismatch)"))
        prev_hash = entry.hash
        expected_id = entry.id + 1
    if expected_id - 1 != head.last_id:
        problems.append(Problem(expected_id, f"entries {expected_id}..{head.last_id} "
                                             "are missing (deleted)"))
    elif head.last_id and prev_hash is not None and prev_hash != head.last_hash:
        problems.append(Problem(head.last_id, "the chain head does not match the last entry"))
    return problems


def _entries(session: Session) -> Iterator[AuditEntry]:
    yield from session.execute(
        sa.select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=2000)
    ).scalars()


def purge(session: Session, actor: Actor, *, before: dt.datetime, now: dt.datetime) -> int:
    """Delete entries older than `before` (retention), recording the purge in the chain."""
    through = session.execute(
        sa.select(sa.func.max(AuditEntry.id)).where(AuditEntry.at < before)
    ).scalar_one()
    head = session.execute(
        sa.select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    if not through or through <= head.purged_through:
        return 0
    anchor = session.execute(
        sa.select(AuditEntry.hash).where(AuditEntry.id == through)
    ).scalar_one()
    head.purged_through = through
    session.flush()
    deleted = session.execute(sa.delete(AuditEntry).where(AuditEntry.id <= through)).rowcount
    append(session, actor, "audit.purge", now=now,
           details={"purged_through": through, "anchor_hash": anchor, "deleted": deleted})
    return int(deleted)
