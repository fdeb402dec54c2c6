"""Possible duplicates of an identity about to be registered, without revealing anyone.

The identity's similarity buckets (cohort/identity/similarity.py) are looked up under every
configured key version, among participants born in a compatible month (the keys all hold
the birth date, or its day/month swap). The stored buckets are deliberately coarse, so
each candidate's identity is opened here and its full keys recomputed: only people who
truly share a key remain, ranked by how many they share. Nothing about them leaves this
function but an opaque uuid and whether the caller's structure follows them; the later
registration flow decides what to show (domain.md §1: "already known", nothing else).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.errors import CohortError
from cohort.identity import similarity
from cohort.identity.keyring import Keyring, Purpose
from cohort.models import Participant, ParticipantSimilarityKey
from cohort.services import access
from cohort.services.participants import (
    IdentityUnreadable,
    identity_key_of,
    pseudonyms_of,
    read_identity,
)

MAX_CANDIDATES = 5
log = logging.getLogger(__name__)


class DuplicateDetectionUnavailable(CohortError):
    """No similarity key is configured: say so rather than answer "no duplicate"."""

    status = 503
    code = "duplicate_detection_unavailable"


@dataclass(frozen=True)
class Candidate:
    """A participant who may be the same person: an opaque id, never an identity."""

    participant_id: int
    participant_uuid: uuid.UUID
    shared_keys: int
    kinds: tuple[str, ...]
    followed_here: bool  # the caller's structure follows them (access.FOLLOWED_BY_ACTOR)


def possible_duplicates(session: Session, keyring: Keyring, identity: dict[str, Any], *,
                        structure_id: int | None) -> list[Candidate]:
    """At most MAX_CANDIDATES participants sharing a similarity key with `identity`.

    Exact pseudonym matches are left out (the registration answers "already known" for
    them); so are erased participants, who have no keys.
    """
    if not keyring.has(Purpose.SIMILARITY):
        raise DuplicateDetectionUnavailable(
            "duplicate detection is unavailable: no similarity key is configured")
    identity_key_of(identity)  # refuses a name with nothing left, as registration does
    keys = keyring[Purpose.SIMILARITY]
    birth: dt.date = identity["birth_date"]
    texts = similarity.key_texts(identity["last_name"], identity["first_names"], birth)
    wanted = similarity.full_keys(keys.current_key, texts)
    exact = list(pseudonyms_of(keyring, identity).values())

    psk = ParticipantSimilarityKey
    buckets = sa.or_(*(
        sa.and_(psk.kind == kind, psk.digest == digest, psk.key_version == version)
        for version in sorted(keys.keys)
        for kind, digest in similarity.stored_keys(keys, version, texts)))
    in_buckets = (sa.select(psk.participant_id)
                  .where(psk.birth_month.in_(similarity.birth_months(birth)), buckets))
    rows = session.execute(
        sa.select(Participant).where(
            Participant.id.in_(in_buckets),
            Participant.identity_sealed.is_not(None),
            Participant.pseudonym.not_in(exact))
        .order_by(Participant.id)
    ).scalars().all()

    scored: list[tuple[int, tuple[str, ...], Participant]] = []
    for participant in rows:
        shared = _shared_kinds(keyring, participant, wanted)
        if shared:
            scored.append((len(shared), shared, participant))
    scored.sort(key=lambda item: (-item[0], item[2].id))
    best = scored[:MAX_CANDIDATES]
    followed = _followed(session, [p.id for _, _, p in best], structure_id)
    return [Candidate(p.id, p.uuid, n, kinds, p.id in followed) for n, kinds, p in best]


def _shared_kinds(keyring: Keyring, participant: Participant,
                  wanted: frozenset[tuple[similarity.Kind, bytes]]) -> tuple[str, ...]:
    """The kinds of the full keys a candidate truly shares (a coarse bucket is not enough)."""
    try:
        record = read_identity(keyring, participant)
    except IdentityUnreadable:
        log.warning("possible duplicates: participant %s has an unreadable identity; skipped",
                    participant.uuid)
        return ()
    texts = similarity.key_texts(record["last_name"], record["first_names"],
                                 dt.date.fromisoformat(record["birth_date"]))
    theirs = similarity.full_keys(keyring[Purpose.SIMILARITY].current_key, texts)
    return tuple(sorted(str(kind) for kind, _ in wanted & theirs))


def _followed(session: Session, ids: list[int], structure_id: int | None) -> set[int]:
    """Which of these participants the structure follows, by the scope rule of access.py."""
    if not ids or structure_id is None:
        return set()
    rows = session.execute(
        sa.select(Participant.id, access.FOLLOWED_BY_ACTOR).where(Participant.id.in_(ids)),
        {"actor_structure_id": structure_id}).all()
    return {pid for pid, followed in rows if followed}
