"""CSV import on both databases: the API's rules, all-or-nothing, idempotent, in bulk."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.identity.keyring import Keyring
from cohort.importer.enrolments import import_enrolments
from cohort.importer.events import import_events
from cohort.importer.participants import import_participants
from cohort.importer.report import ImportFailed, ImportResult
from cohort.models import Enrolment, Event, Participant
from cohort.schemas.events import EventCreateSchema
from cohort.services import events, followups, participants
from cohort.services.participants import read_identity
from cohort.services.timeline import timeline
from tests.builders import NOW, TODAY, cast, enrol, person, record, register, structure

PARTICIPANT_HEADER = ["last_name", "first_names", "birth_date", "sex", "nir", "caf_number",
                      "imilo_id", "france_travail_id", "phone", "email", "home_departement",
                      "home_epci", "ase_past"]


def write(path: Path, header: list[str], rows: list[list[Any]], *, sep: str = ";",
          bom: bool = False) -> Path:
    """A CSV file as a spreadsheet exports it (fields quoted only when they must be)."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=sep, lineterminator="\r\n")
        out.writerow(header)
        for row in rows:
            out.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v
                          for v in row])
    return path


def count(session: Session, model: Any) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def by_identity(session: Session, keyring: Keyring, identity: dict[str, Any]) -> Participant:
    found = participants.find_by_pseudonym(session, participants.pseudonyms_of(keyring, identity))
    assert found is not None
    return found


def run(importer: Any, session: Session, keyring: Keyring, path: Path,
        **options: Any) -> ImportResult:
    result: ImportResult = importer(session, keyring, path, today=TODAY, now=NOW, **options)
    return result


def refused(importer: Any, session: Session, keyring: Keyring, path: Path,
            **options: Any) -> list[tuple[int, str | None]]:
    with pytest.raises(ImportFailed) as failure:
        run(importer, session, keyring, path, **options)
    return [(e.row, e.column) for e in failure.value.row_errors]


# --- participants ------------------------------------------------------------------------

def test_participants_bom_semicolons_quoted_cells_and_one_person_spelled_twice(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    anne = person(last_name="Œuvrard-Testnom", first_names="Anne-Lætitia",
                  birth_date=dt.date(2004, 5, 6))
    other = person()
    path = write(tmp_path / "participants.csv", PARTICIPANT_HEADER, [
        # A first name with the separator and a line break inside its quotes; cells that
        # look like spreadsheet formulas are plain data.
        [anne["last_name"], "Anne-Lætitia;\nMarie", anne["birth_date"], "F", None,
         "=SUM(A1:A9)", None, None, "+33 6 12 34 56 78", None, "62", "200033318", "oui"],
        [other["last_name"], other["first_names"], other["birth_date"], "M", None, None,
         None, None, None, None, None, None, "0"],
        # Anne again, spelled as another structure's export spells her.
        ["OEUVRARD TESTNOM", "anne laetitia marie", anne["birth_date"], None, None, None,
         None, None, None, None, None, None, None],
    ], bom=True)

    result = run(import_participants, session, keyring, path)
    assert (result.rows, result.created, result.unchanged) == (3, 2, 1)
    assert count(session, Participant) == 2

    stored = by_identity(session, keyring, {"last_name": "Oeuvrard Testnom",
                                            "first_names": "ANNE LAETITIA MARIE",
                                            "birth_date": anne["birth_date"]})
    identity = read_identity(keyring, stored)
    assert identity["first_names"] == "Anne-Lætitia;\nMarie"
    assert identity["caf_number"] == "=SUM(A1:A9)"
    assert identity["phone"] == "+33 6 12 34 56 78"
    assert (stored.birth_month, stored.sex, stored.ase_past) == ("2004-05", "F", True)
    assert (stored.home_departement, stored.home_epci) == ("62", "200033318")

    again = run(import_participants, session, keyring, path)
    assert (again.created, again.unchanged) == (0, 3)
    assert count(session, Participant) == 2


def test_commas_are_detected_and_the_api_registers_the_same_person(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    people = [person(ase_past=False), person(), person()]
    path = write(tmp_path / "p.csv", ["last_name", "first_names", "birth_date", "ase_past"],
                 [[p["last_name"], p["first_names"], p["birth_date"], flag]
                  for p, flag in zip(people, ["non", "true", ""], strict=True)], sep=",")
    assert run(import_participants, session, keyring, path).created == 3
    flags = [by_identity(session, keyring, p).ase_past for p in people]
    assert flags == [False, True, False]
    registered = participants.register(session, keyring, SYSTEM, people[0], today=TODAY)
    assert registered.created is False


def test_three_bad_rows_are_named_and_nothing_is_written(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    good, bad_date, bad_name, bad_sex = person(), person(), person(), person()
    before = count(session, Participant)
    path = write(tmp_path / "p.csv", ["last_name", "first_names", "birth_date", "sex"], [
        [good["last_name"], good["first_names"], good["birth_date"], "F"],
        [bad_date["last_name"], bad_date["first_names"], "2005-02-30", "F"],
        [bad_name["last_name"], " -- ", bad_name["birth_date"], "M"],
        [bad_sex["last_name"], bad_sex["first_names"], bad_sex["birth_date"], "X"],
    ])
    with pytest.raises(ImportFailed) as failure:
        run(import_participants, session, keyring, path)
    errors = failure.value.row_errors
    assert [(e.row, e.column) for e in errors] == [
        (3, "birth_date"), (4, "first_names"), (5, "sex")]
    report = "\n".join(str(e) for e in errors)
    assert "row 3, column birth_date:" in report
    for identity in (good, bad_date, bad_name, bad_sex):
        assert identity["last_name"] not in report
    assert count(session, Participant) == before


def test_header_problems_are_reported_on_row_one(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", ["last_name", "birth_date", "favourite_colour"], [])
    assert refused(import_participants, session, keyring, path) == [(1, "3"), (1, "first_names")]
    # A file without its header row: the first person's cells are not echoed.
    identity = person()
    headless = write(tmp_path / "h.csv", [identity["last_name"], identity["first_names"],
                                          identity["birth_date"].isoformat()], [])
    with pytest.raises(ImportFailed) as failure:
        run(import_participants, session, keyring, headless)
    report = "\n".join(str(e) for e in failure.value.row_errors)
    assert "row 1, column 1: unknown column name" in report
    for value in (identity["last_name"], identity["first_names"]):
        assert value.lower() not in report.lower()


def test_malformed_csv_and_bad_bytes_name_their_row(session: Session, keyring: Keyring,
                                                    tmp_path: Path) -> None:
    identity = person()
    good = f"{identity['last_name']};{identity['first_names']};2005-03-10"
    broken = tmp_path / "broken.csv"
    broken.write_bytes(f'last_name;first_names;birth_date\n{good}\nA;"B"C;2005-03-10\n'
                       .encode())
    assert refused(import_participants, session, keyring, broken) == [(3, None)]
    other = person(first_names="Hélène-Testprenom")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(f"last_name;first_names;birth_date\n{good}\n".encode()
                       + f"{other['last_name']};{other['first_names']};2005-03-10\n"
                       .encode("latin-1"))
    assert refused(import_participants, session, keyring, latin1) == [(3, "first_names")]


def test_a_nir_held_by_someone_else_is_refused_like_the_api(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    from stdnum.fr import nir

    born = dt.date(2005, 3, 10)
    base = f"2{born.year % 100:02d}{born.month:02d}62193005"
    number = base + nir.calc_check_digits(base)
    first, second = person(birth_date=born, nir=number), person(birth_date=born, nir=number)
    path = write(tmp_path / "p.csv", ["last_name", "first_names", "birth_date", "nir"],
                 [[p["last_name"], p["first_names"], born, number] for p in (first, second)])
    assert refused(import_participants, session, keyring, path) == [(3, "nir")]


# --- enrolments --------------------------------------------------------------------------

ENROLMENT_HEADER = ["last_name", "first_names", "birth_date", "action_code", "structure_id",
                    "start_date", "rsa_at_entry", "intensity", "end_date", "exit_reason"]


def test_enrolments_by_identity_idempotent_then_ended_with_a_follow_up(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    youth = person(birth_date=dt.date(2005, 3, 10), ase_past=True)
    adult = person(birth_date=dt.date(1990, 1, 1), ase_past=False)
    for identity in (youth, adult):
        participants.register(session, keyring, SYSTEM, identity, today=TODAY)
    ml, plie = structure(session), structure(session, kind="plie")
    rows = [
        [youth["last_name"].upper(), youth["first_names"].lower(), youth["birth_date"],
         "62-A6", ml.uuid, "2023-02-01", "non", None, None, None],
        [adult["last_name"], adult["first_names"], adult["birth_date"], "62-A1", plie.uuid,
         "2023-03-01", "oui", None, None, None],
    ]
    path = write(tmp_path / "e.csv", ENROLMENT_HEADER, rows)
    result = run(import_enrolments, session, keyring, path)
    assert (result.created, result.unchanged) == (2, 0)
    stored = session.execute(sa.select(Enrolment).where(
        Enrolment.participant_id == by_identity(session, keyring, youth).id)).scalar_one()
    assert (stored.age_at_entry, stored.under_26, stored.ase_past) == (17, True, True)

    assert run(import_enrolments, session, keyring, path).unchanged == 2

    rows[0][-2:] = ["2023-12-31", "end_of_support"]
    ended = run(import_enrolments, session, keyring,
                write(tmp_path / "e2.csv", ENROLMENT_HEADER, rows))
    assert (ended.created, ended.ended, ended.unchanged) == (0, 1, 1)
    session.refresh(stored)
    assert (stored.end_date, stored.exit_reason) == (dt.date(2023, 12, 31), "end_of_support")
    check = followups.live_check(session, stored.id)
    assert check is not None
    window = followups.window_of(session, stored)
    assert (check.due_date, check.window_start, check.window_end) == (
        window.due, window.start, window.end)

    rows[1][6] = "non"  # the stored enrolment says RSA recipient: a conflict, not an update
    rows[0][-2:] = ["2023-11-30", "end_of_support"]  # another end than the stored one
    assert refused(import_enrolments, session, keyring,
                   write(tmp_path / "e3.csv", ENROLMENT_HEADER, rows)) == [
        (2, "end_date"), (3, "rsa_at_entry")]


def test_enrolment_rules_are_the_api_rules(session: Session, keyring: Keyring,
                                           tmp_path: Path) -> None:
    youth = register(session, keyring, birth_date=dt.date(2005, 3, 10), ase_past=True)
    adult = register(session, keyring, birth_date=dt.date(1990, 1, 1), ase_past=False)
    ml, plie = structure(session), structure(session, kind="plie")
    cllaj = structure(session, kind="cllaj")
    header = ["participant_id", "action_code", "structure_id", "start_date", "rsa_at_entry",
              "intensity", "end_date", "exit_reason"]
    path = write(tmp_path / "e.csv", header, [
        [youth.uuid, "62-A6", ml.uuid, "2023-02-01", "false", None, None, None],
        [adult.uuid, "62-A6", ml.uuid, "2023-02-01", "false", None, None, None],  # ineligible
        [youth.uuid, "62-A6", ml.uuid, "2023-03-01", "false", None, None, None],  # 2nd open
        [youth.uuid, "62-A4", cllaj.uuid, "2023-02-01", "false", None, None, None],  # intensity
        [youth.uuid, "62-A9", ml.uuid, "2023-02-01", "false", None, None, None],  # no action
        [youth.uuid, "62-A5", uuid.uuid4(), "2023-02-01", "false", None, None, None],
        [youth.uuid, "62-A1", plie.uuid, "2999-01-01", "false", None, None, None],
        [youth.uuid, "62-A1", plie.uuid, "2023-02-01", "true", None, "2023-01-01", "other"],
        [youth.uuid, "62-A1", plie.uuid, "2023-02-01", "true", None, "2023-05-01", None],
        # 62-A1 is run by the PLIE, not by a Mission Locale (domain.md §2 "Operators").
        [adult.uuid, "62-A1", ml.uuid, "2023-02-01", "true", None, None, None],
    ])
    assert refused(import_enrolments, session, keyring, path) == [
        (3, "action_code"), (3, "action_code"),  # one line per failed rule: age and ASE
        (4, "action_code"), (5, "intensity"), (6, "action_code"),
        (7, "structure_id"), (8, "start_date"), (9, "end_date"), (10, "exit_reason"),
        (11, "action_code")]
    assert not session.execute(
        sa.select(Enrolment).where(Enrolment.participant_id == youth.id)).first()


# --- events ------------------------------------------------------------------------------

EVENT_HEADER = ["id", "participant_id", "type", "date", "enrolment_id", "closes",
                "housing_type", "reason", "qualifying", "completed", "resource", "mode",
                "contract", "planned_months"]

# (type, date, attributes, closes: index of the start it names) — the API scenario pathway.
PATHWAY: list[tuple[str, str, dict[str, Any], int | None]] = [
    ("housing_entry", "2023-02-10", {"housing_type": "youth_residence"}, None),
    ("housing_entry", "2023-06-01", {"housing_type": "social_rental"}, None),
    ("training_start", "2023-03-01", {"qualifying": True}, None),
    ("resource_start", "2023-02-01", {"resource": "young_adult_allowance"}, None),
    ("contact", "2023-04-15", {"mode": "phone"}, None),
    ("housing_exit", "2023-09-30", {"reason": "moved_by_choice"}, None),  # implicit close
    ("training_end", "2023-07-01", {"completed": True}, None),
    ("employment_start", "2023-08-01", {"contract": "cdd", "planned_months": 6}, None),
    ("resource_end", "2023-12-31", {}, 3),  # names its start
    ("housing_exit", "2023-10-15", {"reason": "other"}, None),  # closes the older home
    ("employment_end", "2023-05-01", {}, None),  # dated before the start: closes nothing
]


def _cells(value: Any) -> Any:
    return {True: "oui", False: "non"}.get(value, value) if isinstance(value, bool) else value


def pathway_rows(participant: Participant, ids: list[uuid.UUID],
                 steps: list[tuple[str, str, dict[str, Any], int | None]]) -> list[list[Any]]:
    rows = []
    for event_id, (type_, date, attributes, closes) in zip(ids, steps, strict=True):
        cells = {"id": event_id, "participant_id": participant.uuid, "type": type_,
                 "date": date, "closes": ids[closes] if closes is not None else None}
        cells.update({k: _cells(v) for k, v in attributes.items()})
        rows.append([cells.get(name) for name in EVENT_HEADER])
    return rows


def shape(session: Session, participant: Participant, ids: list[uuid.UUID]) -> dict[str, Any]:
    """A participant's timeline with event ids replaced by their place in the pathway."""
    place = {event_id: n for n, event_id in enumerate(ids)}
    view = timeline(session, SYSTEM, participant, now=NOW)
    return {
        "events": [(place[e["id"]], e["type"], e["date"], place.get(e["closed"]))
                   for e in view["events"]],
        "intervals": sorted((i["family"], i["start_date"], i["end_date"],
                             place[i["start_event_id"]], place.get(i["end_event_id"]))
                            for i in view["intervals"]),
    }


def test_events_resolve_exactly_as_recorded_through_the_api(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    ml = structure(session)
    by_api, by_file = register(session, keyring), register(session, keyring)
    for p in (by_api, by_file):
        enrol(session, keyring, p, "62-A6", ml, dt.date(2023, 2, 1))
    steps = PATHWAY[:-1]
    api_ids = [uuid.uuid4() for _ in steps]
    for event_id, (type_, date, attributes, closes) in zip(api_ids, steps, strict=True):
        record(session, keyring, by_api, type_, dt.date.fromisoformat(date), id=event_id,
               closes=api_ids[closes] if closes is not None else None, **attributes)
    file_ids = [uuid.uuid4() for _ in steps]
    path = write(tmp_path / "events.csv", EVENT_HEADER, pathway_rows(by_file, file_ids, steps))

    result = run(import_events, session, keyring, path)
    assert (result.created, result.unchanged) == (len(steps), 0)
    imported = shape(session, by_file, file_ids)
    assert imported == shape(session, by_api, api_ids)
    closed = {n: start for n, _, _, start in imported["events"] if start is not None}
    assert closed == {5: 1, 6: 2, 8: 3, 9: 0}

    again = run(import_events, session, keyring, path)
    assert (again.created, again.unchanged) == (0, len(steps))


def test_chunk_boundaries_change_nothing(session: Session, keyring: Keyring, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows per chunk: out-of-order events re-read the history stored by earlier chunks."""
    from cohort.importer import pipeline

    ml = structure(session)
    whole, split = register(session, keyring), register(session, keyring)
    for p in (whole, split):
        enrol(session, keyring, p, "62-A6", ml, dt.date(2023, 2, 1))
    steps = PATHWAY[:-1]
    ids = {p.id: [uuid.uuid4() for _ in steps] for p in (whole, split)}
    run(import_events, session, keyring,
        write(tmp_path / "a.csv", EVENT_HEADER, pathway_rows(whole, ids[whole.id], steps)))
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 2)
    run(import_events, session, keyring,
        write(tmp_path / "b.csv", EVENT_HEADER, pathway_rows(split, ids[split.id], steps)))
    assert shape(session, split, ids[split.id]) == shape(session, whole, ids[whole.id])


def test_an_end_that_closes_nothing_and_other_refusals(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    ml = structure(session)
    youth = register(session, keyring, birth_date=dt.date(2005, 3, 10))
    enrolment = enrol(session, keyring, youth, "62-A6", ml, dt.date(2023, 2, 1))
    stranger = register(session, keyring)
    ids = [uuid.uuid4() for _ in range(9)]
    header = ["id", "participant_id", "type", "date", "enrolment_id", "closes", "reason",
              "mode", "housing_type"]
    rows = [
        [ids[0], youth.uuid, "housing_entry", "2023-03-01", None, None, None, None, "family"],
        [ids[1], youth.uuid, "training_end", "2023-04-01", None, None, None, None, None],
        [ids[2], youth.uuid, "housing_exit", "2023-04-01", None, ids[0], "other", None, None],
        [ids[3], youth.uuid, "housing_exit", "2023-05-01", None, ids[0], "other", None,
         None],  # its start is already closed
        [ids[4], youth.uuid, "support_break", "2023-03-01", None, None, "absent", None, None],
        [ids[5], youth.uuid, "contact", "2999-01-01", None, None, None, "phone", None],
        [ids[6], stranger.uuid, "contact", "2023-03-01", None, None, None, "phone",
         None],  # never enrolled
        [ids[7], youth.uuid, "contact", "2023-03-01", None, None, None, "phone",
         "family"],  # not an attribute of a contact
        [ids[8], youth.uuid, "support_break", "2023-03-01", enrolment.uuid, None, "absent",
         None, None],
    ]
    path = write(tmp_path / "events.csv", header, rows)
    assert refused(import_events, session, keyring, path) == [
        (3, "type"), (5, "closes"), (6, "enrolment_id"), (7, "date"), (8, "participant_id"),
        (9, "housing_type")]
    assert not session.execute(sa.select(Event).where(Event.participant_id == youth.id)).first()


def test_same_id_same_content_is_unchanged_even_through_the_api(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    ml = structure(session)
    identity = person(birth_date=dt.date(2005, 3, 10))
    youth = participants.register(session, keyring, SYSTEM, identity, today=TODAY).participant
    enrol(session, keyring, youth, "62-A6", ml, dt.date(2023, 2, 1))
    event_id = uuid.uuid4()
    # The participant named by the identity triple, booleans in French.
    header = ["id", "last_name", "first_names", "birth_date", "type", "date", "housing_type",
              "via_programme"]
    row = [event_id, identity["last_name"], identity["first_names"], identity["birth_date"],
           "housing_entry", "2023-03-01", "social_rental", "oui"]
    assert run(import_events, session, keyring, write(tmp_path / "a.csv", header, [row])
               ).created == 1

    body = {"id": str(event_id), "participant_id": str(youth.uuid), "type": "housing_entry",
            "date": "2023-03-01", "attributes": {"housing_type": "social_rental",
                                                 "via_programme": True}}
    replay = events.record(session, keyring, SYSTEM, EventCreateSchema().load(body),
                           today=TODAY, now=NOW)
    assert replay.created is False

    row[6] = "private_rental"
    assert refused(import_events, session, keyring, write(tmp_path / "b.csv", header, [row])
                   ) == [(2, "id")]
    fresh = uuid.uuid4()
    twice = [[fresh, *row[1:]], [fresh, *row[1:6], "social_rental", "oui"]]
    assert refused(import_events, session, keyring, write(tmp_path / "c.csv", header, twice)
                   ) == [(3, "id")]


def test_unknown_participant_and_both_references(session: Session, keyring: Keyring,
                                                 tmp_path: Path) -> None:
    ghost = person()
    known = register(session, keyring)
    header = ["id", "participant_id", "last_name", "first_names", "birth_date", "type", "date",
              "mode"]
    path = write(tmp_path / "e.csv", header, [
        [uuid.uuid4(), None, ghost["last_name"], ghost["first_names"], ghost["birth_date"],
         "contact", "2023-03-01", "phone"],
        [uuid.uuid4(), uuid.uuid4(), None, None, None, "contact", "2023-03-01", "phone"],
        [uuid.uuid4(), known.uuid, ghost["last_name"], None, None, "contact", "2023-03-01",
         "phone"],
        [uuid.uuid4(), None, None, None, None, "contact", "2023-03-01", "phone"],
    ])
    assert refused(import_events, session, keyring, path) == [
        (2, "last_name/first_names/birth_date"), (3, "participant_id"), (4, "participant_id"),
        (5, "participant_id")]


def test_people_forgotten_between_chunks_resolve_as_if_remembered(
        session: Session, keyring: Keyring, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A file naming more people than the import keeps state for: whoever comes back in a
    later chunk is read back from the database, earlier chunks included."""
    from cohort.importer import pipeline

    ml = structure(session)
    steps = PATHWAY[:-1]
    by_api = register(session, keyring)
    people = [register(session, keyring) for _ in range(4)]
    for p in (by_api, *people):
        enrol(session, keyring, p, "62-A6", ml, dt.date(2023, 2, 1))
    ids = {p.id: [uuid.uuid4() for _ in steps] for p in people}
    # Round robin: each chunk of three rows names three people, and one is remembered.
    per_person = [pathway_rows(p, ids[p.id], steps) for p in people]
    rows = [r for step in zip(*per_person, strict=True) for r in step]
    path = write(tmp_path / "events.csv", EVENT_HEADER, rows)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 3)

    result = run(import_events, session, keyring, path, remembered=1)  # no event before it
    assert (result.created, result.unchanged) == (len(rows), 0)
    api_ids = [uuid.uuid4() for _ in steps]
    for event_id, (type_, date, attributes, closes) in zip(api_ids, steps, strict=True):
        record(session, keyring, by_api, type_, dt.date.fromisoformat(date), id=event_id,
               closes=api_ids[closes] if closes is not None else None, **attributes)
    expected = shape(session, by_api, api_ids)
    for p in people:
        assert shape(session, p, ids[p.id]) == expected
    assert run(import_events, session, keyring, path, remembered=1).unchanged == len(rows)


def test_worker_processes_give_the_same_result(session: Session, keyring: Keyring,
                                               tmp_path: Path) -> None:
    ml = structure(session)
    people = [register(session, keyring) for _ in range(3)]
    for p in people:
        enrol(session, keyring, p, "62-A6", ml, dt.date(2023, 2, 1))
    ids = {p.id: [uuid.uuid4() for _ in PATHWAY[:-1]] for p in people}
    rows = [row for p in people for row in pathway_rows(p, ids[p.id], PATHWAY[:-1])]
    path = write(tmp_path / "events.csv", EVENT_HEADER, rows)
    result = run(import_events, session, keyring, path, workers=2)
    assert result.created == len(rows)
    shapes = [shape(session, p, ids[p.id]) for p in people]
    assert shapes[0] == shapes[1] == shapes[2]


def test_imported_support_breaks_alert_the_referents_as_recorded_ones_do(
        session: Session, keyring: Keyring, tmp_path: Path) -> None:
    """Imported breaks raise, in bulk, the alerts and messages the API path raises."""
    from cohort.models import Alert, Notification
    from cohort.services import alerts, notify

    people = cast(session)
    ml, plie = people["structures"]["ml"], people["structures"]["plie"]
    cllaj = structure(session, kind="cllaj")
    ml59 = structure(session, kind="mission_locale", departement="59")
    referents = {"62": [people["users"]["referent62"][0].id],
                 "59": [people["users"]["referent59"][0].id]}
    # The youth's home département; else the action's; for a joint action, the structure's.
    at_home = register(session, keyring, ase_past=True, home_departement="59")
    no_home = register(session, keyring, ase_past=True, home_departement=None)
    joint = register(session, keyring, ase_past=True, home_departement=None)
    adult = register(session, keyring, ase_past=False, birth_date=dt.date(1990, 1, 1))
    enrolled = {
        at_home.id: enrol(session, keyring, at_home, "62-A4", cllaj, dt.date(2023, 2, 1),
                          intensity="simple"),
        no_home.id: enrol(session, keyring, no_home, "62-A6", ml, dt.date(2023, 2, 1)),
        joint.id: enrol(session, keyring, joint, "J-MOBILITE", ml59, dt.date(2023, 2, 1)),
        adult.id: enrol(session, keyring, adult, "62-A1", plie, dt.date(2023, 2, 1),
                        rsa_at_entry=True),
    }
    rows = [[uuid.uuid4(), p.uuid, "support_break", "2023-03-01", enrolled[p.id].uuid, None,
             None, "absent", None, None, None, None, None, None]
            for p in (at_home, no_home, joint, adult)]
    path = write(tmp_path / "events.csv", EVENT_HEADER, rows)
    assert run(import_events, session, keyring, path).created == 4

    raised = session.execute(sa.select(Alert).order_by(Alert.id)).scalars().all()
    assert [(a.participant_id, a.cause, a.status, a.departement) for a in raised] == [
        (at_home.id, "support_break", "open", "59"), (no_home.id, "support_break", "open", "62"),
        (joint.id, "support_break", "open", "59")]  # the adult is no ASE youth: no alert
    for alert in raised:
        youth = session.get(Participant, alert.participant_id)
        enrolment = enrolled[alert.participant_id]
        assert alert.departement == alerts.departement_of(session, youth, enrolment)
        assert alert.enrolment_id == enrolment.id
        messages = session.execute(sa.select(Notification).where(
            Notification.alert_id == alert.id)).scalars().all()
        assert [m.recipient_user_id for m in messages] == referents[alert.departement]
        # Word for word the message the per-event path writes.
        assert (messages[0].subject, messages[0].body) == notify.alert_text(session, alert)
        assert str(youth.uuid) in messages[0].body
        assert "2023-03-01" in messages[0].body

    assert run(import_events, session, keyring, path).unchanged == 4
    assert count(session, Alert) == 3
    assert count(session, Notification) == 3
