"""Possible duplicates on both databases: found, ranked, scoped, rotated, backfilled, erased."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import create_app
from cohort.actors import SYSTEM, Actor, Role
from cohort.db import make_engine, make_sessionmaker, unit_of_work
from cohort.identity.keyring import Keyring, Purpose, add_version, generate_key_file, load_keyring
from cohort.importer.participants import import_participants
from cohort.models import Participant, ParticipantSimilarityKey
from cohort.services import keys, lifecycle, participants
from cohort.services.duplicates import DuplicateDetectionUnavailable, possible_duplicates
from tests.builders import NOW, TODAY, enrol, person, register, structure

ADMIN = Actor(role=Role.ADMIN, user_id=None, structure_id=None)
BIRTH = dt.date(2004, 3, 4)


def similarity_rows(session: Session, participant: Participant) -> list[tuple[str, int, int]]:
    psk = ParticipantSimilarityKey
    return sorted((kind, version, digest) for kind, version, digest in session.execute(
        sa.select(psk.kind, psk.key_version, psk.digest).where(
            psk.participant_id == participant.id)))


def without_similarity(ring: Keyring) -> Keyring:
    return dataclasses.replace(ring, purposes={
        p: k for p, k in ring.purposes.items() if p is not Purpose.SIMILARITY})


def test_the_issue_spellings_are_found_and_marked_by_who_follows(
        session: Session, keyring: Keyring) -> None:
    ml, plie = structure(session), structure(session)
    known = register(session, keyring, last_name="Dupont Le Fevre", first_names="Camille",
                     birth_date=BIRTH)
    enrol(session, keyring, known, "62-A6", ml, dt.date(2023, 2, 1))
    kinds = {kind for kind, _, _ in similarity_rows(session, known)}
    assert kinds == {"last_phonetic", "first_name", "date_swap", "name_part"}

    probe = person(last_name="Dupond-Lefèvre", first_names="Camille", birth_date=BIRTH)
    here = possible_duplicates(session, keyring, probe, structure_id=ml.id)
    assert [(c.participant_uuid, c.followed_here) for c in here] == [(known.uuid, True)]
    assert here[0].shared_keys >= 3
    elsewhere = possible_duplicates(session, keyring, probe, structure_id=plie.id)
    assert [(c.participant_uuid, c.followed_here) for c in elsewhere] == [(known.uuid, False)]

    # The same identity is an exact pseudonym match: "already known", not a candidate.
    exact = person(last_name="dupont le fevre", first_names="CAMILLE", birth_date=BIRTH)
    assert possible_duplicates(session, keyring, exact, structure_id=ml.id) == []
    swapped = person(last_name="Dupont Lefevre", first_names="Camille",
                     birth_date=dt.date(2004, 4, 3))
    assert [c.kinds for c in possible_duplicates(session, keyring, swapped,
                                                 structure_id=None)] == [("date_swap",)]


def test_at_most_five_candidates_ranked_by_shared_keys(session: Session,
                                                        keyring: Keyring) -> None:
    namesakes = [register(session, keyring, last_name="Testdupont", first_names=first,
                          birth_date=BIRTH)
                 for first in ("Louison", "Mirko", "Nadiya", "Olgane", "Paulin", "Roxane", "Samir")]
    typo = register(session, keyring, last_name="Testdupont", first_names="Camile",
                    birth_date=BIRTH)
    stranger = register(session, keyring, last_name="Autrenom", first_names="Camille",
                        birth_date=dt.date(2004, 3, 5))
    probe = person(last_name="Testdupond", first_names="Camille", birth_date=BIRTH)
    found = possible_duplicates(session, keyring, probe, structure_id=None)
    assert len(found) == 5
    assert found[0].participant_uuid == typo.uuid
    assert found[0].shared_keys > found[1].shared_keys
    assert {c.participant_uuid for c in found[1:]} <= {p.uuid for p in namesakes}
    assert stranger.uuid not in {c.participant_uuid for c in found}


def test_erasure_destroys_the_similarity_keys(session: Session, keyring: Keyring) -> None:
    kept = register(session, keyring, last_name="Testeffac", first_names="Lina",
                    birth_date=BIRTH)
    deleted = register(session, keyring, last_name="Testeffac", first_names="Lino",
                       birth_date=BIRTH)
    probe = person(last_name="Testefac", first_names="Lina", birth_date=BIRTH)
    assert len(possible_duplicates(session, keyring, probe, structure_id=None)) == 2
    lifecycle.erase(session, ADMIN, kept, mode=lifecycle.KEEP_PATHWAY, cause="request",
                    now=NOW, ledger=None)
    assert similarity_rows(session, kept) == []
    deleted_id = deleted.id
    lifecycle.erase(session, ADMIN, deleted, mode=lifecycle.DELETE_PATHWAY, cause="request",
                    now=NOW, ledger=None)
    assert session.execute(sa.select(sa.func.count()).where(
        ParticipantSimilarityKey.participant_id == deleted_id)).scalar_one() == 0
    assert possible_duplicates(session, keyring, probe, structure_id=None) == []


def test_csv_import_stores_the_same_keys_as_registration(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    one = person(last_name="Testimport Le Bihan", first_names="Yann", birth_date=BIRTH)
    path = tmp_path / "p.csv"
    path.write_text("last_name;first_names;birth_date\n"
                    f"{one['last_name']};{one['first_names']};{BIRTH.isoformat()}\n",
                    encoding="utf-8")
    assert import_participants(session, keyring, path, today=TODAY, now=NOW).created == 1
    imported = participants.find_by_pseudonym(session, participants.pseudonyms_of(keyring, one))
    assert imported is not None
    expected = participants.similarity_keys_of(keyring, one)
    assert similarity_rows(session, imported) == sorted(set(expected))
    probe = person(last_name="Testimport Lebihan", first_names="Yann", birth_date=BIRTH)
    assert [c.participant_uuid for c in possible_duplicates(
        session, keyring, probe, structure_id=None)] == [imported.uuid]


@pytest.fixture
def rotating(fresh_database_url: str, tmp_path: Path) -> Any:
    """A database of its own (rotation commits per batch) and a key file we can extend."""
    path = tmp_path / "keys.toml"
    generate_key_file(path, demo=False)
    engine = make_engine(fresh_database_url)
    yield make_sessionmaker(engine), path
    engine.dispose()


def test_rotation_fills_missing_keys_then_moves_them_to_a_new_version(rotating: Any) -> None:
    factory, path = rotating
    ring = load_keyring(str(path), env={})
    # Twenty last names of twenty different phonetic codes.
    people = [person(last_name=f"Test{one}{two}", first_names="Ana", birth_date=BIRTH)
              for one in ("Bak", "Lor", "Fum", "Kir", "Sel")
              for two in ("nar", "pil", "tos", "gur")]
    with factory() as s, s.begin():  # registered while the key file had no similarity key
        for identity in people:
            participants.register(s, without_similarity(ring), SYSTEM, identity, today=TODAY)
        status = {st.purpose: st for st in keys.key_status(s, ring)}[Purpose.SIMILARITY]
        assert (status.missing, status.remaining, status.total) == (20, 20, 20)
        with pytest.raises(DuplicateDetectionUnavailable):
            possible_duplicates(s, without_similarity(ring), people[0], structure_id=None)

    filled = keys.rotate(factory, ring, SYSTEM, Purpose.SIMILARITY, batch_size=8,
                         now=lambda: NOW)
    assert (filled.done, filled.remaining) == (20, 0)
    with factory() as s, s.begin():
        assert keys.versions_in_use(s, Purpose.SIMILARITY) == {1: 20}

    add_version(path, Purpose.SIMILARITY)
    ring = load_keyring(str(path), env={})
    halfway = keys.rotate(factory, ring, SYSTEM, Purpose.SIMILARITY, batch_size=8,
                          max_batches=1, now=lambda: NOW)
    assert (halfway.done, halfway.remaining) == (8, 12)
    probe = dict(people[-1], first_names="Anna")  # still under v1: found all the same
    with factory() as s, s.begin():
        assert keys.versions_in_use(s, Purpose.SIMILARITY) == {1: 12, 2: 8}
        found = possible_duplicates(s, ring, probe, structure_id=None)
        assert len(found) == 1
        assert found[0].kinds == ("date_swap", "last_phonetic", "name_part")
    assert keys.rotate(factory, ring, SYSTEM, Purpose.SIMILARITY,
                       now=lambda: NOW).remaining == 0
    with factory() as s, s.begin():
        assert keys.versions_in_use(s, Purpose.SIMILARITY) == {2: 20}
        keys.check_retirable(s, ring, Purpose.SIMILARITY, 1)
        assert len(possible_duplicates(s, ring, probe, structure_id=None)) == 1


def test_a_key_file_without_similarity_starts_and_says_detection_is_off(
            fresh_database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "old-keys.toml"
    generate_key_file(path, demo=False)
    text = path.read_text(encoding="utf-8")
    start = text.index("[similarity]")
    path.write_text(text[:start] + text[text.index("[session]", start):], encoding="utf-8")
    ring = load_keyring(str(path), env={})
    assert not ring.has(Purpose.SIMILARITY)
    engine = make_engine(fresh_database_url)
    with unit_of_work(make_sessionmaker(engine)) as s:
        participants.register(s, ring, SYSTEM, person(), today=TODAY)
    engine.dispose()

    seen: list[str] = []
    collect = logging.Handler(logging.WARNING)
    collect.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("cohort.services.keys").addHandler(collect)
    try:
        app = create_app({"DATABASE_URL": fresh_database_url, "KEYS_FILE": str(path)})
    finally:
        logging.getLogger("cohort.services.keys").removeHandler(collect)
    try:
        warnings = [message for message in seen if "similarity" in message]
        assert len(warnings) == 1
        assert "duplicate detection is unavailable" in warnings[0]
        from cohort.cli import cli

        result = app.test_cli_runner().invoke(cli, ["keys", "status"])
        assert result.exit_code == 0, result.output
        assert "similarity: no key; duplicate detection unavailable" in result.output
        added = app.test_cli_runner().invoke(
            cli, ["keys", "add", "--purpose", "similarity", "--keys-file", str(path)])
        assert added.exit_code == 0, added.output
    finally:
        app.extensions["cohort.engine"].dispose()

    # Turned on as docs/operations.md says: the key added, a restart, then the backfill.
    app = create_app({"DATABASE_URL": fresh_database_url, "KEYS_FILE": str(path)})
    try:
        runner = app.test_cli_runner()
        before = runner.invoke(cli, ["keys", "status"]).output
        assert "similarity: current v1; configured 1; rows no rows; 1 without keys" in before
        rotated = runner.invoke(cli, ["keys", "rotate", "--purpose", "similarity"])
        assert rotated.exit_code == 0, rotated.output
        assert "similarity: 1 rows moved to the current version; 0 remaining" in rotated.output
        after = runner.invoke(cli, ["keys", "status"]).output
        assert "similarity: current v1; configured 1; rows v1: 1\n" in after
    finally:
        app.extensions["cohort.engine"].dispose()


def test_a_database_before_migration_0007_passes_the_start_up_check(
        fresh_database_url: str, keyring: Keyring) -> None:
    """New code may start before `cohort db upgrade`: the missing table is no error."""
    from alembic import command

    from cohort.cli import alembic_config

    command.downgrade(alembic_config(fresh_database_url), "0006")
    engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as conn:
            assert not sa.inspect(conn).has_table("participant_similarity_key")
            keys.check_against_database(keyring, conn)
    finally:
        engine.dispose()
    command.upgrade(alembic_config(fresh_database_url), "head")
