"""Identity lifecycle on both databases: rotation, tampering, NIR, search, link, erasure."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cohort.actors import SYSTEM, Actor, Role
from cohort.db import checkpoint, make_engine, make_sessionmaker
from cohort.errors import Conflict, NotFound, Rejected
from cohort.identity.keyring import Purpose, add_version, generate_key_file, load_keyring
from cohort.models import Enrolment, Participant
from cohort.services import keys, lifecycle, participants
from cohort.services.participants import IdentityUnreadable, read_identity
from tests.builders import NOW, TODAY, enrol, person, register, runs, structure

ADMIN = Actor(role=Role.ADMIN, user_id=None, structure_id=None)


def _nir(sex: str, birth: dt.date, dept: str) -> str:
    from stdnum.fr import nir

    base = f"{sex}{birth.year % 100:02d}{birth.month:02d}{dept}123456"
    return base + nir.calc_check_digits(base)


@pytest.fixture
def rotating(fresh_database_url: str, tmp_path: Path) -> Any:
    """A database of its own (rotation commits per batch) and a key file we can extend."""
    path = tmp_path / "keys.toml"
    generate_key_file(path, demo=False)
    engine = make_engine(fresh_database_url)
    yield make_sessionmaker(engine), path
    engine.dispose()


def test_rotation_halfway_then_complete_without_duplicates(rotating: Any) -> None:
    factory, path = rotating
    ring_v1 = load_keyring(str(path), env={})
    people = [person() for _ in range(50)]
    with factory() as s, s.begin():
        for identity in people:
            participants.register(s, ring_v1, SYSTEM, identity, today=TODAY)
    add_version(path, Purpose.ENCRYPTION)
    add_version(path, Purpose.PSEUDONYM)
    ring = load_keyring(str(path), env={})

    halfway = keys.rotate(factory, ring, SYSTEM, Purpose.ENCRYPTION, batch_size=20,
                          max_batches=1, now=lambda: NOW)
    assert (halfway.done, halfway.remaining) == (20, 30)  # as if killed after one batch
    keys.rotate(factory, ring, SYSTEM, Purpose.PSEUDONYM, batch_size=15, max_batches=2,
                now=lambda: NOW)
    with factory() as s, s.begin():  # registrations during the rotation
        for identity in people[:5] + [person() for _ in range(5)]:
            participants.register(s, ring, SYSTEM, identity, today=TODAY)
        assert s.execute(sa.select(sa.func.count()).select_from(Participant)).scalar_one() == 55
        with pytest.raises(Conflict):
            keys.check_retirable(s, ring, Purpose.ENCRYPTION, 1)

    for purpose in (Purpose.ENCRYPTION, Purpose.PSEUDONYM):
        assert keys.rotate(factory, ring, SYSTEM, purpose, batch_size=20,
                           now=lambda: NOW).remaining == 0
        assert keys.rotate(factory, ring, SYSTEM, purpose, now=lambda: NOW).done == 0
    with factory() as s, s.begin():
        assert keys.versions_in_use(s, Purpose.ENCRYPTION) == {2: 55}
        assert keys.versions_in_use(s, Purpose.PSEUDONYM) == {2: 55}
        rows = s.execute(sa.select(Participant)).scalars().all()
        names = {read_identity(ring, p)["last_name"] for p in rows}
        assert {p["last_name"] for p in people} <= names
        keys.check_retirable(s, ring, Purpose.ENCRYPTION, 1)
        again = participants.register(s, ring, SYSTEM, people[7], today=TODAY)
        assert again.created is False


def test_swapped_or_altered_ciphertexts_never_open(session: Session, keyring: Any) -> None:
    a = register(session, keyring)
    b = register(session, keyring)
    twice = [register(session, keyring, last_name="Memenom", first_names="Jumeau",
                      birth_date=dt.date(2001, 1, 1)) for _ in range(1)]
    assert a.identity_sealed[:12] != b.identity_sealed[:12]  # distinct nonces
    a_sealed, b_sealed = a.identity_sealed, b.identity_sealed
    session.execute(sa.update(Participant).where(Participant.id == a.id)
                    .values(identity_sealed=b_sealed))
    session.execute(sa.update(Participant).where(Participant.id == b.id)
                    .values(identity_sealed=a_sealed[:-1] + bytes([a_sealed[-1] ^ 1])))
    session.expire_all()
    for p in (session.get(Participant, a.id), session.get(Participant, b.id)):
        with pytest.raises(IdentityUnreadable):
            read_identity(keyring, p)
    assert read_identity(keyring, twice[0])["last_name"] == "Memenom"
    nonces = session.execute(sa.select(sa.func.substr(Participant.identity_sealed, 1, 12))
                             ).scalars().all()
    assert len(nonces) == len(set(nonces))


def test_same_identity_encrypted_twice_differs(rotating: Any) -> None:
    from cohort.identity import vault

    factory, path = rotating
    ring = load_keyring(str(path), env={})
    with factory() as s, s.begin():
        p = participants.register(s, ring, SYSTEM, person(), today=TODAY).participant
        record = read_identity(ring, p)
        first, _ = vault.seal(ring[Purpose.ENCRYPTION], "participant", "identity", p.uuid, record)
        second, _ = vault.seal(ring[Purpose.ENCRYPTION], "participant", "identity", p.uuid, record)
        assert first != second


def test_nir_match_key(session: Session, keyring: Any) -> None:
    birth = dt.date(1990, 4, 12)
    first = person(birth_date=birth, nir=_nir("1", birth, "62"))
    created = participants.register(session, keyring, SYSTEM, first, today=TODAY)
    assert created.participant.nir_hash is not None
    corsica = dt.date(1988, 7, 3)
    assert participants.register(session, keyring, SYSTEM, person(
        birth_date=corsica, nir=_nir("2", corsica, "2A")), today=TODAY).created
    assert participants.register(session, keyring, SYSTEM, person(
        birth_date=corsica, nir=_nir("1", corsica, "2B")), today=TODAY).created
    with pytest.raises(Rejected) as bad_key:
        participants.register(session, keyring, SYSTEM, person(
            birth_date=birth, nir=_nir("1", birth, "62")[:-2] + "00"), today=TODAY)
    assert bad_key.value.field == "nir"
    with pytest.raises(Conflict) as clash:
        participants.register(session, keyring, SYSTEM, person(
            birth_date=birth, nir=_nir("1", birth, "62")), today=TODAY)
    assert first["last_name"] not in clash.value.message
    assert list(clash.value.errors) == ["nir"]


def test_search_by_identity_is_scoped(session: Session, keyring: Any) -> None:
    ml = structure(session)
    plie = structure(session, kind="plie")
    coordinator = Actor(role=Role.COORDINATOR, structure_id=ml.id)
    other = Actor(role=Role.COORDINATOR, structure_id=plie.id)
    identity = person(last_name="Lefèvre-Dubois", first_names="Anaïs")
    participants.register(session, keyring, coordinator, identity, today=TODAY, now=NOW)
    typed = dict(identity, last_name="LEFEVRE DUBOIS", first_names="anais")
    found = lifecycle.find_by_identity(session, keyring, coordinator, typed, now=NOW)
    assert found.birth_month == identity["birth_date"].strftime("%Y-%m")
    with pytest.raises(NotFound):
        lifecycle.find_by_identity(session, keyring, other, typed, now=NOW)
    with pytest.raises(NotFound):
        lifecycle.find_by_identity(session, keyring, coordinator,
                                   dict(typed, birth_date=dt.date(1999, 1, 1)), now=NOW)


def _persons_in(session: Session, code: str) -> int:
    from cohort.models import Action

    return session.execute(
        sa.select(sa.func.count(sa.distinct(lifecycle.person_key())))
        .select_from(Enrolment).join(Participant).join(Action)
        .where(Action.code == code)
    ).scalar_one()


def test_link_and_unlink_round_trip(session: Session, keyring: Any) -> None:
    ml = structure(session)
    typo = register(session, keyring, last_name="Martinez", first_names="Lucas",
                    birth_date=dt.date(2005, 3, 1))
    right = register(session, keyring, last_name="Martinez", first_names="Lucas",
                     birth_date=dt.date(2005, 3, 10))
    enrol(session, keyring, typo, "62-A6", ml, dt.date(2023, 2, 1))
    enrol(session, keyring, right, "62-A1", runs(session, "62-A1"), dt.date(2023, 5, 1))
    enrol(session, keyring, right, "62-A6", ml, dt.date(2023, 6, 1))
    before = (_persons_in(session, "62-A6"), _persons_in(session, "62-A1"))
    made = lifecycle.link(session, ADMIN, typo.uuid, right.uuid,
                          reason="même jeune, erreur de date de naissance", now=NOW)
    assert _persons_in(session, "62-A6") == before[0] - 1
    with pytest.raises(Conflict):
        lifecycle.link(session, ADMIN, typo.uuid, right.uuid, reason="une seconde fois",
                       now=NOW)
    lifecycle.unlink(session, ADMIN, made.uuid, reason="finalement deux personnes", now=NOW)
    assert (_persons_in(session, "62-A6"), _persons_in(session, "62-A1")) == before
    assert session.get(Participant, typo.id).merged_into_id is None
    from cohort.models import AuditEntry

    mappings = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action.in_(["participant.link", "participant.unlink"]))
        .order_by(AuditEntry.id)).scalars().all()
    assert mappings[0]["after"] == {str(typo.uuid): str(right.uuid)}
    assert mappings[1]["after"] == {str(typo.uuid): None}


def test_erasure_then_restore_then_replay(fresh_database_url: str, keys_file: Path,
                                         tmp_path: Path) -> None:
    ring = load_keyring(str(keys_file), env={})
    engine = make_engine(fresh_database_url)
    factory: sessionmaker[Session] = make_sessionmaker(engine)
    ledger = tmp_path / "ledger.jsonl"
    identity = person(last_name="Effacementnom", first_names="Oubliee")
    with factory() as s, s.begin():
        ml = structure(s)
        p = participants.register(s, ring, SYSTEM, identity, today=TODAY).participant
        enrol(s, ring, p, "62-A6", ml, dt.date(2023, 2, 1))
        keep, gone = p.uuid, None
        q = register(s, ring)
        enrol(s, ring, q, "62-A6", ml, dt.date(2023, 2, 1))
        gone = q.uuid
        pseudonym, sealed = p.pseudonym, p.identity_sealed
    sqlite_file = None
    if engine.dialect.name == "sqlite":
        sqlite_file = Path(engine.url.database or "")
        checkpoint(engine)
        shutil.copy(sqlite_file, tmp_path / "backup.db")
    with factory() as s, s.begin():
        lifecycle.erase(s, ADMIN, s.execute(sa.select(Participant).where(
            Participant.uuid == keep)).scalar_one(), mode="keep_pathway", cause="request",
            now=NOW, ledger=ledger)
        lifecycle.erase(s, ADMIN, s.execute(sa.select(Participant).where(
            Participant.uuid == gone)).scalar_one(), mode="delete_pathway", cause="request",
            now=NOW, ledger=ledger)
    with factory() as s, s.begin():
        with pytest.raises(NotFound):
            lifecycle.find_by_identity(s, ring, SYSTEM, identity, now=NOW)
        kept = s.execute(sa.select(Participant).where(Participant.uuid == keep)).scalar_one()
        assert kept.identity_sealed is None
        assert kept.pseudonym is None
        assert s.execute(sa.select(sa.func.count()).select_from(Enrolment)
                         .where(Enrolment.participant_id == kept.id)).scalar_one() == 1
        assert s.execute(sa.select(Participant).where(Participant.uuid == gone)).first() is None
        assert "Effacementnom" not in ledger.read_text()
    if sqlite_file is not None:
        checkpoint(engine)
        content = sqlite_file.read_bytes()
        assert pseudonym is not None
        assert sealed is not None
        assert pseudonym.encode() not in content
        assert sealed not in content
        # Restore the backup taken before the erasure, then replay the ledger.
        engine.dispose()
        shutil.copy(tmp_path / "backup.db", sqlite_file)
        with factory() as s, s.begin():
            restored = s.execute(sa.select(Participant).where(Participant.uuid == keep)
                                 ).scalar_one()
            assert restored.identity_sealed is not None
            assert lifecycle.replay(s, SYSTEM, ledger, now=NOW) == 2
        with factory() as s, s.begin():
            assert s.execute(sa.select(Participant.identity_sealed).where(
                Participant.uuid == keep)).scalar_one() is None
            assert s.execute(sa.select(Participant).where(Participant.uuid == gone)
                             ).first() is None
            assert lifecycle.replay(s, SYSTEM, ledger, now=NOW) == 0
    with factory() as s, s.begin():
        again = participants.register(s, ring, SYSTEM, identity, today=TODAY)
        assert again.created  # a new participant, not linked to the erased one
        assert again.participant.uuid != keep
    engine.dispose()


def test_retention_is_a_dry_run_by_default(session: Session, keyring: Any) -> None:
    ml = structure(session)
    old = register(session, keyring, birth_date=dt.date(2002, 1, 1))
    e = enrol(session, keyring, old, "62-A6", ml, dt.date(2020, 2, 1))
    e.end_date, e.exit_reason = dt.date(2021, 1, 31), "end_of_support"
    recent = register(session, keyring)
    enrol(session, keyring, recent, "62-A6", ml, dt.date(2023, 2, 1))
    session.flush()
    today = dt.date(2024, 6, 15)
    assert lifecycle.apply_retention(session, SYSTEM, today=today, years=3, execute=False,
                                     now=NOW, ledger=None) == 1
    assert old.identity_sealed is not None
    assert lifecycle.apply_retention(session, SYSTEM, today=today, years=3, execute=True,
                                     now=NOW, ledger=None) == 1
    session.refresh(old)
    assert old.identity_sealed is None
    assert recent.identity_sealed is not None
    assert lifecycle.apply_retention(session, SYSTEM, today=dt.date(2024, 2, 1), years=3,
                                     execute=False, now=NOW, ledger=None) == 0


def test_rotating_the_encryption_key_reseals_second_factor_secrets(rotating: Any) -> None:
    """Users' TOTP secrets are sealed under the encryption key: an old version cannot be
    retired while one uses it, and the rotation re-seals them (sign-in keeps working)."""
    import pyotp

    from cohort.models import User
    from cohort.services import accounts, second_factor

    factory, path = rotating
    ring_v1 = load_keyring(str(path), env={})
    with factory() as s, s.begin():
        home = structure(s, "Département du Nord", "departement", "59")
        admin = accounts.create_user(s, SYSTEM, {
            "email": "admin59@example.org", "display_name": "admin", "structure_id": home.uuid,
            "role": "admin", "password": None}, now=NOW)
        secret = second_factor.begin(s, ring_v1, admin).secret
        second_factor.confirm(s, admin, ring_v1, pyotp.TOTP(secret).now(),
                              now=dt.datetime.now(dt.UTC))
    add_version(path, Purpose.ENCRYPTION)
    ring = load_keyring(str(path), env={})
    with factory() as s, s.begin():
        assert keys.versions_in_use(s, Purpose.ENCRYPTION) == {1: 1}
        with pytest.raises(Conflict):
            keys.check_retirable(s, ring, Purpose.ENCRYPTION, 1)
    assert keys.rotate(factory, ring, SYSTEM, Purpose.ENCRYPTION, now=lambda: NOW).done == 1
    with factory() as s, s.begin():
        assert keys.versions_in_use(s, Purpose.ENCRYPTION) == {2: 1}
        user = s.execute(sa.select(User).where(User.email == "admin59@example.org")).scalar_one()
        totp = pyotp.TOTP(secret)
        later = dt.datetime.now(dt.UTC)
        assert second_factor.verify(s, ring, user, totp.generate_otp(totp.timecode(later) + 1),
                                    now=later)
