"""Key versions in use, rotation in resumable batches, and the start-up consistency checks.

Rotation re-seals (encryption) or re-hashes (pseudonym, NIR) the rows still under an older
version, a batch per transaction, so it can be stopped at any point and run again: each
run picks up the rows not yet at the current version. Look-ups try every configured
version meanwhile, so reads and registrations keep working and never create duplicates.
The similarity keys live in their own table (participant_similarity_key): rotating them
also fills the participants that have none yet (registered before the purpose existed,
or while the key file lacked it), since only the decrypted identity can give them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cohort import audit
from cohort.actors import Actor
from cohort.errors import ConfigError, Conflict
from cohort.identity import pseudonym, vault
from cohort.identity.keyring import Keyring, Purpose
from cohort.identity.normalise import identity_key, normalise_nir
from cohort.models import InstanceMeta, Participant, ParticipantSimilarityKey, User
from cohort.services.participants import similarity_keys_of, store_similarity_keys

log = logging.getLogger(__name__)

VERSION_COLUMN = {
    Purpose.ENCRYPTION: Participant.identity_version,
    Purpose.PSEUDONYM: Participant.pseudonym_version,
    Purpose.NIR: Participant.nir_version,
}


def versions_in_use(session: Session | sa.Connection, purpose: Purpose, *,
                    users: bool = True) -> dict[int, int]:
    """Row counts per key version for one purpose (participants, for similarity keys; the
    encryption key also seals users' second-factor secrets, counted unless `users` is off:
    a database older than migration 0014 has no such column)."""
    if purpose is Purpose.SIMILARITY:
        key = ParticipantSimilarityKey
        rows = session.execute(
            sa.select(key.key_version, sa.func.count(sa.distinct(key.participant_id)))
            .group_by(key.key_version)).all()
        return {int(version): int(count) for version, count in rows}
    column = VERSION_COLUMN[purpose]
    rows = session.execute(
        sa.select(column, sa.func.count()).where(column.is_not(None)).group_by(column)
    ).all()
    counts = {int(version): int(count) for version, count in rows}
    if purpose is Purpose.ENCRYPTION and users:
        for version, count in session.execute(
                sa.select(User.totp_version, sa.func.count())
                .where(User.totp_version.is_not(None)).group_by(User.totp_version)):
            counts[int(version)] = counts.get(int(version), 0) + int(count)
    return counts


@dataclass(frozen=True)
class KeyStatus:
    """One purpose's keys: the current version, those configured, and rows per version."""

    purpose: Purpose
    current: int  # 0 when the purpose has no key (an optional one: similarity)
    configured: tuple[int, ...]
    rows: dict[int, int]
    missing: int = 0  # live participants without similarity keys (rotate fills them)

    @property
    def total(self) -> int:
        return sum(self.rows.values()) + self.missing

    @property
    def remaining(self) -> int:
        """Rows still under an older version (what `cohort keys rotate` has left to do)."""
        return sum(n for version, n in self.rows.items() if version != self.current) \
            + self.missing

    @property
    def retirable(self) -> tuple[int, ...]:
        """Configured old versions no row uses any more (`cohort keys retire` may drop them)."""
        return tuple(v for v in self.configured if v != self.current and not self.rows.get(v))


def key_status(session: Session | sa.Connection, keyring: Keyring) -> list[KeyStatus]:
    """Every purpose's versions in use and rotation progress (`cohort keys status`)."""
    out = []
    for purpose in Purpose:
        rows = dict(sorted(versions_in_use(session, purpose).items()))
        if not keyring.has(purpose):
            out.append(KeyStatus(purpose, 0, (), rows))
            continue
        missing = (session.execute(sa.select(sa.func.count()).where(_lacks_similarity_keys()))
                   .scalar_one() if purpose is Purpose.SIMILARITY else 0)
        out.append(KeyStatus(purpose, keyring[purpose].current,
                             tuple(sorted(keyring[purpose].keys)), rows, missing))
    return out


def _lacks_similarity_keys() -> sa.ColumnElement[bool]:
    """A live participant (identity still sealed) with no similarity key at all."""
    return sa.and_(Participant.identity_sealed.is_not(None), ~sa.exists().where(
        ParticipantSimilarityKey.participant_id == Participant.id))


UNAVAILABLE = ("KEYS_FILE.similarity: no key; duplicate detection is unavailable until one "
               "is added (cohort keys add --purpose similarity, then keys rotate)")


def check_against_database(keyring: Keyring, conn: sa.Connection) -> None:
    """Refuse to start when stored rows need an absent key, or demo keys meet real data."""
    inspector = sa.inspect(conn)
    if not inspector.has_table("participant"):
        return  # an empty database, before `cohort db upgrade`
    for purpose in Purpose:
        if not keyring.has(purpose):
            log.warning(UNAVAILABLE)  # once: this check runs when the service starts
            continue
        if purpose is Purpose.SIMILARITY and not inspector.has_table(
                ParticipantSimilarityKey.__tablename__):
            continue  # a database not yet at migration 0007
        users = "totp_version" in {c["name"] for c in inspector.get_columns("app_user")}
        missing = sorted(set(versions_in_use(conn, purpose, users=users))
                         - set(keyring[purpose].keys))
        if missing:
            raise ConfigError(f"KEYS_FILE.{purpose}: version {missing[0]} is used by stored "
                              "rows but not configured")
    if keyring.demo and inspector.has_table("instance_meta"):
        demo = conn.execute(sa.select(InstanceMeta.value).where(InstanceMeta.key == "demo")
                            ).scalar_one_or_none()
        has_people = conn.execute(sa.select(Participant.id).limit(1)).first() is not None
        if demo != "true" and has_people:
            raise ConfigError("KEYS_FILE: demo keys refused on a database that is not the "
                              "demo database")


def mark_demo(session: Session) -> None:
    """Record that this database holds demo data only (demo keys are then accepted)."""
    if session.get(InstanceMeta, "demo") is None:
        session.add(InstanceMeta(key="demo", value="true"))
        session.flush()


@dataclass(frozen=True)
class RotationProgress:
    purpose: Purpose
    done: int
    remaining: int


def _reseal(session: Session, keyring: Keyring, participant: Participant,
            purpose: Purpose) -> None:
    enc = keyring[Purpose.ENCRYPTION]
    if participant.identity_sealed is None or participant.identity_version is None:
        return
    record = vault.open_sealed(enc, "participant", "identity", participant.uuid,
                               participant.identity_sealed, participant.identity_version)
    if purpose is Purpose.SIMILARITY:
        session.execute(sa.delete(ParticipantSimilarityKey).where(
            ParticipantSimilarityKey.participant_id == participant.id))
        store_similarity_keys(session, participant, similarity_keys_of(keyring, record))
    elif purpose is Purpose.ENCRYPTION:
        participant.identity_sealed, participant.identity_version = vault.seal(
            enc, "participant", "identity", participant.uuid, record)
    elif purpose is Purpose.PSEUDONYM:
        keys = keyring[Purpose.PSEUDONYM]
        text = identity_key(record["last_name"], record["first_names"],
                            dt.date.fromisoformat(record["birth_date"]))
        participant.pseudonym = pseudonym.keyed_hash(keys, keys.current, text)
        participant.pseudonym_version = keys.current
    elif record.get("nir"):
        keys = keyring[Purpose.NIR]
        participant.nir_hash = pseudonym.keyed_hash(keys, keys.current,
                                                    normalise_nir(record["nir"]))
        participant.nir_version = keys.current


def rotate(factory: sessionmaker[Session], keyring: Keyring, actor: Actor, purpose: Purpose, *,
           batch_size: int = 500, max_batches: int | None = None,
           now: Callable[[], dt.datetime], progress: Callable[[int], None] | None = None
           ) -> RotationProgress:
    """Bring every row to the current version of `purpose`, one transaction per batch."""
    current = keyring[purpose].current
    if purpose is Purpose.SIMILARITY:
        todo = sa.or_(_lacks_similarity_keys(), sa.exists().where(
            ParticipantSimilarityKey.participant_id == Participant.id,
            ParticipantSimilarityKey.key_version != current))
    else:
        column = VERSION_COLUMN[purpose]
        todo = sa.and_(column.is_not(None), column != current)
    done = batches = 0
    with factory() as session, session.begin():
        audit.append(session, actor, "keys.rotate.start", now=now(), details={
            "purpose": str(purpose), "to_version": current})
    while max_batches is None or batches < max_batches:
        with factory() as session, session.begin():
            rows = session.execute(
                sa.select(Participant).where(todo)
                .order_by(Participant.id).limit(batch_size).with_for_update(skip_locked=True)
            ).scalars().all()
            if not rows:
                break
            for participant in rows:
                _reseal(session, keyring, participant, purpose)
            session.flush()
        done += len(rows)
        batches += 1
        if progress:
            progress(len(rows))
    if purpose is Purpose.ENCRYPTION:
        done += _reseal_second_factors(factory, keyring)
    with factory() as session, session.begin():
        remaining = session.execute(
            sa.select(sa.func.count()).select_from(Participant).where(todo)).scalar_one()
        if remaining == 0:
            audit.append(session, actor, "keys.rotate.done", now=now(), details={
                "purpose": str(purpose), "to_version": current, "rows": done})
    return RotationProgress(purpose, done, remaining)


def _reseal_second_factors(factory: sessionmaker[Session], keyring: Keyring) -> int:
    """Users' second-factor secrets under an older encryption key, re-sealed (a few rows:
    one transaction)."""
    enc = keyring[Purpose.ENCRYPTION]
    with factory() as session, session.begin():
        users = session.execute(sa.select(User).where(
            User.totp_version.is_not(None), User.totp_version != enc.current)).scalars().all()
        for user in users:
            assert user.totp_sealed is not None
            assert user.totp_version is not None
            record = vault.open_sealed(enc, "app_user", "totp", user.uuid, user.totp_sealed,
                                       user.totp_version)
            user.totp_sealed, user.totp_version = vault.seal(enc, "app_user", "totp",
                                                             user.uuid, record)
    return len(users)


def check_retirable(session: Session, keyring: Keyring, purpose: Purpose, version: int) -> None:
    """An old version may leave the key file only once no row uses it."""
    if version == keyring[purpose].current:
        raise Conflict("the current version cannot be retired",
                       errors={"version": ["is current"]})
    count = versions_in_use(session, purpose).get(version, 0)
    if count:
        raise Conflict(f"{count} rows still use this version: rotate first",
                       errors={"version": ["still in use"]})
