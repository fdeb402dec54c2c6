"""The administrators' duplicates report: pairs of participants sharing a similarity key,
not linked and not dismissed, over the whole base (issue 17, part 2).

The stored buckets are coarse on purpose (docs/duplicates.md: most pairs sharing one bucket
are coincidences), so the bucket pairs come from set-based statements, ranked by how many
buckets they share (true variants share many), and each pair is confirmed as
`possible_duplicates` does: both identities opened here, their full keys recomputed.
Every key holds the birth date, so pairs only form within a birth month (within a year for
the day/month swap): the report goes a birth month at a time, each month one small
statement, and only the pairs a page needs are examined. The next page starts after the
last pair examined (a cursor: how many bucket pairs a page consumes is known once read).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort import audit
from cohort.actors import Actor, Role
from cohort.errors import Forbidden, Rejected
from cohort.identity import similarity
from cohort.identity.keyring import Keyring, Purpose
from cohort.models import DuplicateDismissal, Participant, ParticipantSimilarityKey
from cohort.services.duplicates import DuplicateDetectionUnavailable
from cohort.services.link_requests import MIN_REASON
from cohort.services.lookup import by_uuid
from cohort.services.participants import IdentityUnreadable, read_identity

log = logging.getLogger(__name__)

BATCH = 200  # bucket pairs whose identities are opened together
SCAN_LIMIT = 10_000  # bucket pairs examined per page at most (each may open two identities)


@dataclass(frozen=True)
class Pair:
    first_uuid: uuid.UUID
    second_uuid: uuid.UUID
    first_birth_month: str
    second_birth_month: str
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Cursor:
    """Where a page stopped: the last bucket pair examined, in report order."""

    month: str
    shared: int
    first_id: int
    second_id: int

    def __str__(self) -> str:
        return f"{self.month}.{self.shared}.{self.first_id}.{self.second_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        try:
            month, shared, first, second = text.split(".")
            dt.date.fromisoformat(f"{month}-01")
            return cls(month, int(shared), int(first), int(second))
        except ValueError:
            raise Rejected("after", "not a page cursor of this report") from None


@dataclass(frozen=True)
class ReportPage:
    items: list[Pair]
    next: Cursor | None  # None: the report is complete


def bucket_pairs(month: str | sa.BindParameter[str] | None = None) -> sa.Select[Any]:
    """(shared buckets, first id, second id) of the pairs sharing a stored bucket whose
    earlier birth month is `month` (every month when None), first id lower; linked (same
    person) and dismissed pairs left out. Buckets are compared within a birth month, the
    day/month swap's within a birth year (a swapped date has another month)."""
    a, b = aliased(ParticipantSimilarityKey), aliased(ParticipantSimilarityKey)
    same = sa.and_(a.kind == b.kind, a.key_version == b.key_version, a.digest == b.digest)
    same_month = (sa.select(a.participant_id.label("first_id"),
                            b.participant_id.label("second_id"))
                  .join(b, sa.and_(same, a.birth_month == b.birth_month,
                                   a.participant_id < b.participant_id)))
    low = sa.case((a.participant_id < b.participant_id, a.participant_id),
                  else_=b.participant_id)
    high = sa.case((a.participant_id < b.participant_id, b.participant_id),
                   else_=a.participant_id)
    # A later month of the same year: a range the (kind, digest, birth_month) index seeks.
    year_end = sa.func.substr(a.birth_month, 1, 4) + sa.literal("-12")
    swapped = (sa.select(low.label("first_id"), high.label("second_id"))
               .join(b, sa.and_(same, a.kind == str(similarity.Kind.DATE_SWAP),
                                b.birth_month > a.birth_month, b.birth_month <= year_end)))
    if month is not None:
        same_month = same_month.where(a.birth_month == month)
        swapped = swapped.where(a.birth_month == month)
    shared = sa.union_all(same_month, swapped).subquery("shared")
    pa, pb = aliased(Participant), aliased(Participant)
    dismissed = sa.exists().where(DuplicateDismissal.low_id == shared.c.first_id,
                                  DuplicateDismissal.high_id == shared.c.second_id)
    return (sa.select(sa.func.count().label("shared"), shared.c.first_id, shared.c.second_id)
            .join(pa, pa.id == shared.c.first_id)
            .join(pb, pb.id == shared.c.second_id)
            .where(sa.func.coalesce(pa.merged_into_id, pa.id)
                   != sa.func.coalesce(pb.merged_into_id, pb.id), ~dismissed)
            .group_by(shared.c.first_id, shared.c.second_id))


def _month_statement() -> sa.Select[Any]:
    """A month's bucket pairs after a position, most buckets shared first (built once:
    building the statement cost more than running it for a small month)."""
    ranked = bucket_pairs(sa.bindparam("month")).subquery("ranked")  # type: ignore[arg-type]
    shared, first = sa.bindparam("shared"), sa.bindparam("first_id")
    return (sa.select(ranked.c.shared, ranked.c.first_id, ranked.c.second_id)
            .where(ranked.c.shared >= sa.bindparam("min_shared"))
            .where(sa.or_(ranked.c.shared < shared, sa.and_(ranked.c.shared == shared, sa.or_(
                ranked.c.first_id > first,
                sa.and_(ranked.c.first_id == first,
                        ranked.c.second_id > sa.bindparam("second_id"))))))
            .order_by(ranked.c.shared.desc(), ranked.c.first_id, ranked.c.second_id))


_MONTH_PAIRS = _month_statement()


def _month_pairs(session: Session, month: str, after: Cursor | None, min_shared: int
                 ) -> list[Any]:
    """One birth month's bucket pairs sharing at least `min_shared` buckets, most first,
    after the cursor."""
    position = ((after.shared, after.first_id, after.second_id)
                if after is not None and after.month == month else (1_000_000, 0, 0))
    return list(session.execute(_MONTH_PAIRS, dict(zip(
        ("shared", "first_id", "second_id"), position, strict=True))
        | {"month": month, "min_shared": min_shared}).all())


def page(session: Session, keyring: Keyring, actor: Actor, *, after: Cursor | None,
         per_page: int, now: dt.datetime, min_shared: int = 1) -> ReportPage:
    """One page of confirmed pairs (one audit entry for the page, none per pair).

    ``min_shared`` > 1 reads only pairs sharing that many stored buckets: most respelled
    pairs, far fewer coincidences (docs/duplicates.md), no day/month swap (one bucket)."""
    _admin(actor)
    if not keyring.has(Purpose.SIMILARITY):
        raise DuplicateDetectionUnavailable(
            "duplicate detection is unavailable: no similarity key is configured")
    psk = ParticipantSimilarityKey
    months = session.execute(
        sa.select(psk.birth_month).distinct()
        .where(psk.birth_month >= (after.month if after else ""))
        .order_by(psk.birth_month)).scalars().all()
    keys: dict[int, tuple[Participant, frozenset[Any]]] = {}
    items: list[Pair] = []
    examined = 0
    last = after
    full = False
    for month in months:
        rows = _month_pairs(session, month, after, min_shared)
        for start in range(0, len(rows), BATCH):
            batch = rows[start:start + BATCH]
            _load(session, keyring, keys, {pid for _, a, b in batch for pid in (a, b)})
            for shared, first, second in batch:
                examined += 1
                last = Cursor(month, shared, first, second)
                common = _common(keys, first, second)
                if common:
                    p, q = keys[first][0], keys[second][0]
                    items.append(Pair(p.uuid, q.uuid, p.birth_month, q.birth_month, common))
                full = len(items) == per_page or examined >= SCAN_LIMIT
                if full:
                    break
            if full:
                break
        if full:
            break
    audit.append(session, actor, "duplicates.report_viewed", now=now,
                 details={"pairs": len(items), "bucket_pairs_examined": examined,
                          "after": str(after) if after else None, "min_shared": min_shared})
    return ReportPage(items, last if full else None)


def _common(keys: dict[int, tuple[Participant, frozenset[Any]]], first: int, second: int
            ) -> tuple[str, ...]:
    """The kinds of the full keys two opened participants truly share."""
    if first not in keys or second not in keys:
        return ()
    return tuple(sorted({str(kind) for kind, _ in keys[first][1] & keys[second][1]}))


def _load(session: Session, keyring: Keyring,
          keys: dict[int, tuple[Participant, frozenset[Any]]], ids: set[int]) -> None:
    """Open the identities not opened yet and recompute their full keys."""
    wanted = ids - keys.keys()
    if not wanted:
        return
    current = keyring[Purpose.SIMILARITY].current_key
    for participant in session.execute(
            sa.select(Participant).where(Participant.id.in_(wanted),
                                         Participant.identity_sealed.is_not(None))).scalars():
        try:
            record = read_identity(keyring, participant)
        except IdentityUnreadable:
            log.warning("duplicates report: participant %s has an unreadable identity; "
                        "skipped", participant.uuid)
            continue
        texts = similarity.key_texts(record["last_name"], record["first_names"],
                                     dt.date.fromisoformat(record["birth_date"]))
        keys[participant.id] = (participant, similarity.full_keys(current, texts))


def dismiss(session: Session, actor: Actor, first_id: Any, second_id: Any, *, reason: str,
            now: dt.datetime) -> tuple[DuplicateDismissal, bool]:
    """Record that two participants are two people: the pair leaves the report. Dismissing
    a dismissed pair answers the first dismissal."""
    _admin(actor)
    first = by_uuid(session, Participant, first_id, "first_id")
    second = by_uuid(session, Participant, second_id, "second_id")
    if first.id == second.id:
        raise Rejected("second_id", "must be another participant than first_id")
    cleaned = (reason or "").strip()
    if len(cleaned) < MIN_REASON:
        raise Rejected("reason", "say why, in at least 10 characters")
    low, high = sorted((first.id, second.id))
    existing = session.execute(sa.select(DuplicateDismissal).where(
        DuplicateDismissal.low_id == low, DuplicateDismissal.high_id == high)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    record = DuplicateDismissal(low_id=low, high_id=high, reason=cleaned, dismissed_at=now,
                                dismissed_by_user_id=actor.user_id)
    session.add(record)
    session.flush()
    audit.append(session, actor, "duplicates.dismiss", now=now,
                 target_type="duplicate_dismissal", target_id=record.uuid, purpose=cleaned,
                 details={"participants": sorted([str(first.uuid), str(second.uuid)])})
    return record, True


def _admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("administrators only")
