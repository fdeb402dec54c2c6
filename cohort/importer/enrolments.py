"""Import enrolments: enrol (and end) each row as the API would, in bulk.

Rows are validated by the API's EnrolSchema and EndSchema and checked by the same rules
(cohort.domain.rules). A row is idempotent on (participant, action, start date): the same
enrolment again is "unchanged"; the same enrolment with an end the database lacks ends it;
any other difference is a row error. A row without an end says nothing about the end, so
re-importing a file after an enrolment was ended elsewhere changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import fields
from sqlalchemy.orm import Session

from cohort.db import padded
from cohort.domain import followup, operators, rules
from cohort.errors import CohortError
from cohort.identity.keyring import Keyring
from cohort.importer import references
from cohort.importer.csvfile import cells_to_dict, pick
from cohort.importer.pipeline import Kind, Progress, RawRows, batches, run
from cohort.importer.references import Ref
from cohort.importer.report import (
    ErrorLog,
    ImportResult,
    RowError,
    error_to_rows,
    messages_to_errors,
)
from cohort.models import Action, Enrolment, FollowUpCheck, Programme, Structure
from cohort.schemas.compiled import CompiledSchema
from cohort.schemas.enrolments import EndSchema, EnrolSchema
from cohort.services.enrolments import enrolment_columns

ENROL = EnrolSchema()
END = EndSchema()
# The same results, validated once per shape (cohort.schemas.compiled).
ENROL_COMPILED, END_COMPILED = CompiledSchema(ENROL), CompiledSchema(END)
# The API names the action by id; a file names it by code within one programme.
_NOT_IN_FILE = ("participant_id", "participant", "action_id", "force", "force_justification",
                "end_date", "exit_reason")
ENROL_FIELDS = tuple(name for name in ENROL.fields if name not in _NOT_IN_FILE)
# A file ends enrolments only; closing open periods is the API's and the page's.
END_FIELDS = tuple(name for name in END.fields
                   if name not in ("expected_version", "close_periods"))
COLUMNS = (*references.COLUMNS, "action_code", *ENROL_FIELDS, *END_FIELDS)
REQUIRED = ("action_code", *(n for n in ENROL_FIELDS if ENROL.fields[n].required))
BOOLEANS = frozenset(n for n in ENROL_FIELDS if isinstance(ENROL.fields[n], fields.Boolean))
# Compared with the stored enrolment of the same (participant, action, start date).
_SAME = ("structure_id", "rsa_at_entry", "parent_child_0_3", "intensity")
_COLUMN_OF = {"action_id": "action_code", "eligibility": "action_code"}


@dataclass(frozen=True)
class ActionInfo:
    id: int
    uuid: str
    eligibility: list[Any]
    settings: dict[str, Any]
    followup: tuple[int, int, int]  # (months, days before, days after) of its checks
    departement: str = ""
    operators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    columns: list[str]
    keyring: Keyring
    programme: str
    actions: dict[str, ActionInfo]
    structure: str | None = None  # --structure: the rows' default structure_id


@dataclass(frozen=True, slots=True)
class Ready:
    row: int
    ref: Ref
    action_code: str
    data: dict[str, Any]
    end: dict[str, Any] | None


def prepare(ctx: Context, rows: RawRows) -> list[Ready | list[RowError]]:
    """Validate each row with the API's schemas (pure: runs in worker processes)."""
    out: list[Ready | list[RowError]] = []
    for row, cells in rows:
        values, errors = cells_to_dict(row, ctx.columns, cells, BOOLEANS)
        if errors:
            out.append(errors)
            continue
        ref, errors = references.parse(row, values, ctx.keyring, ctx.structure)
        if ctx.structure is not None and "structure_id" not in values:
            values["structure_id"] = ctx.structure
        code = values.get("action_code")
        action = ctx.actions.get(code) if code else None
        if code is None:
            errors.append(RowError(row, "action_code", "Missing data for required field."))
        elif action is None:
            errors.append(RowError(row, "action_code", f"no such action in {ctx.programme}"))
        raw: dict[str, Any] = pick(values, ENROL_FIELDS)
        raw["participant_id"] = references.raw_id(values)
        raw["action_id"] = action.uuid if action else references.PLACEHOLDER
        data: dict[str, Any] = {}
        try:
            data = ENROL_COMPILED.validated(raw)
        except ma.ValidationError as exc:
            errors += messages_to_errors(row, exc.messages, _COLUMN_OF)
        end = None
        if any(name in values for name in END_FIELDS):
            try:
                end = END_COMPILED.validated(pick(values, END_FIELDS))
            except ma.ValidationError as exc:
                errors += messages_to_errors(row, exc.messages)
        if errors or ref is None or code is None:
            out.append(errors)
            continue
        out.append(Ready(row, references.canonical(ref, data), code, data, end))
    return out


class _Apply:
    def __init__(self, session: Session, ctx: Context, result: ImportResult, log: ErrorLog,
                 *, today: dt.date, now: dt.datetime):
        self.conn = session.connection()
        self.ctx = ctx
        self.result = result
        self.log = log
        self.today = today
        self.now = now
        self.people = references.Directory(self.conn, ctx.keyring)
        self.structures: dict[str, tuple[int, str, str]] = {}  # uuid → (id, kind, dépt)

    def _structures(self, wanted: set[str]) -> None:
        text = sa.type_coerce(Structure.uuid, sa.String)
        for part in batches(sorted(wanted - self.structures.keys())):
            for row in self.conn.execute(
                    sa.select(text, Structure.id, Structure.kind, Structure.departement)
                    .where(text.in_(padded(part)))):
                self.structures[row[0]] = (row[1], row[2], row[3])

    def apply(self, prepared: list[Ready | list[RowError]]) -> None:
        ready = [p for p in prepared if isinstance(p, Ready)]
        for p in prepared:
            if not isinstance(p, Ready):
                self.log.extend(p)
        self.people.load(p.ref for p in ready)
        self._structures({str(p.data["structure_id"]) for p in ready})
        pids = sorted({person.id for p in ready if (person := self.people.find(p.ref))})
        stored: dict[tuple[int, int, dt.date], dict[str, Any]] = {}
        for part in batches(pids):
            for row in self.conn.execute(sa.select(Enrolment.__table__).where(
                    Enrolment.participant_id.in_(padded(part)))).mappings():
                stored[(row["participant_id"], row["action_id"], row["start_date"])] = dict(row)
        open_in = {(k[0], k[1]) for k, row in stored.items() if row["end_date"] is None}
        new: list[dict[str, Any]] = []
        ends: dict[int, dict[str, Any]] = {}
        for p in ready:
            try:
                self._row(p, stored, open_in, new, ends)
            except CohortError as exc:
                column_of = {**_COLUMN_OF, "participant_id": references.column_of(p.ref)}
                self.log.extend(error_to_rows(p.row, exc, column_of))
        if new:
            self.conn.execute(sa.insert(Enrolment), new)
        if ends:
            table = Enrolment.__table__
            self.conn.execute(
                table.update().where(table.c.id == sa.bindparam("row_id"))
                .values(end_date=sa.bindparam("end"), exit_reason=sa.bindparam("reason"),
                        end_recorded_at=self.now, version=table.c.version + 1),
                [{"row_id": i, "end": e["end_date"], "reason": e["exit_reason"]}
                 for i, e in ends.items()],
            )
        self._schedule_checks([e for e in new if e["end_date"] is not None],
                              list(ends.values()))

    def _schedule_checks(self, created: list[dict[str, Any]], ended: list[dict[str, Any]]
                         ) -> None:
        """Each enrolment the file ends gets its follow-up check, as ending it by hand would
        (services.followups.schedule: same window rules, one check per ended enrolment)."""
        text = sa.type_coerce(Enrolment.uuid, sa.String)
        ids: dict[str, int] = {}
        for part in batches(sorted(str(e["uuid"]) for e in created)):
            ids.update((u, i) for u, i in self.conn.execute(
                sa.select(text, Enrolment.id).where(text.in_(padded(part)))))
        windows = {a.id: a.followup for a in self.ctx.actions.values()}
        checks = []
        for enrolment in [*created, *ended]:
            months, before, after = windows[enrolment["action_id"]]
            window = followup.window_for(enrolment["end_date"], months=months, before=before,
                                         after=after)
            checks.append({
                "enrolment_id": enrolment.get("id") or ids[str(enrolment["uuid"])],
                "participant_id": enrolment["participant_id"],
                "structure_id": enrolment["structure_id"], "action_id": enrolment["action_id"],
                "due_date": window.due, "window_start": window.start, "window_end": window.end,
                "status": followup.CheckStatus.SCHEDULED.value, "created_at": self.now,
            })
        if checks:
            self.conn.execute(sa.insert(FollowUpCheck), checks)

    def _row(self, p: Ready, stored: dict[tuple[int, int, dt.date], dict[str, Any]],
             open_in: set[tuple[int, int]], new: list[dict[str, Any]],
             ends: dict[int, dict[str, Any]]) -> None:
        person = self.people.find(p.ref)
        if person is None:
            raise _refused(references.column_of(p.ref), "not found")
        action = self.ctx.actions[p.action_code]
        structure = self.structures.get(str(p.data["structure_id"]))
        if structure is None:
            raise _refused("structure_id", "not found")
        structure_id, structure_kind, structure_departement = structure
        start: dt.date = p.data["start_date"]
        key = (person.id, action.id, start)
        wanted = {**p.data, "structure_id": structure_id,
                  "parent_child_0_3": p.data.get("parent_child_0_3", False)}
        existing = stored.get(key)
        if existing is not None:
            self._again(p, person, existing, wanted, open_in, ends)
            return
        birth = self.people.birth(p.ref, person)
        refusals = operators.refusals(
            action_departement=action.departement, operators=action.operators,
            structure_kind=structure_kind, structure_departement=structure_departement)
        entry = rules.enrolment_entry(action.eligibility, action.settings, p.data, birth=birth,
                                      ase_past=person.ase_past, is_admin=True, today=self.today,
                                      operator_refusals=refusals)
        if p.end is not None:
            rules.check_enrolment_end(start, p.end["end_date"], today=self.today)
        elif (person.id, action.id) in open_in:
            raise _refused("action_code", "an open enrolment already exists")
        values = enrolment_columns(person.id, action.id, structure_id, p.data, entry,
                                   ase_past=person.ase_past, now=self.now)
        values |= {"uuid": uuid.uuid4(), "version": 1, "end_date": None, "exit_reason": None,
                   "end_recorded_at": None}
        if p.end is not None:
            values |= {"end_date": p.end["end_date"], "exit_reason": p.end["exit_reason"],
                       "end_recorded_at": self.now}
            self.result.created_ended += 1
        else:
            open_in.add((person.id, action.id))
        new.append(values)
        self.result.created_one(p.row, values["uuid"])
        stored[key] = values

    def _again(self, p: Ready, person: references.Person, existing: dict[str, Any],
               wanted: Mapping[str, Any], open_in: set[tuple[int, int]],
               ends: dict[int, dict[str, Any]]) -> None:
        """The same (participant, action, start) again: unchanged, ended, or refused."""
        for name in _SAME:
            if existing[name] != wanted.get(name):
                raise _refused(name, "differs from the enrolment already recorded for this"
                                     " participant, action and start date")
        if p.end is None:
            self.result.unchanged += 1
            return
        if existing["end_date"] is not None:
            for name in END_FIELDS:
                if existing[name] != p.end[name]:
                    raise _refused(name, "differs from the end already recorded")
            self.result.unchanged += 1
            return
        if person.erased:
            raise _refused(references.column_of(p.ref), "identity erased: cannot end")
        rules.check_enrolment_end(existing["start_date"], p.end["end_date"], today=self.today)
        existing.update(end_date=p.end["end_date"], exit_reason=p.end["exit_reason"],
                        end_recorded_at=self.now)
        if "id" in existing:  # stored before this chunk; a new row is inserted ended
            ends[existing["id"]] = existing
        open_in.discard((existing["participant_id"], existing["action_id"]))
        self.result.ended += 1

    def finish(self) -> None:
        """Nothing is derived from enrolments at the end of the file."""


def _refused(column: str, reason: str) -> CohortError:
    return CohortError(reason, errors={column: [reason]})


def actions_of(session: Session, programme: str | None) -> tuple[str, dict[str, ActionInfo]]:
    """The programme's actions by code; default: the only programme, else the latest."""
    query = sa.select(Programme)
    if programme is not None:
        query = query.where(Programme.code == programme)
    chosen = session.execute(query.order_by(Programme.period_start.desc(), Programme.id.desc())
                             ).scalars().first()
    if chosen is None:
        raise CohortError("no such programme" if programme else "no programme loaded",
                          errors={"programme": ["not found"]})
    rows = session.execute(sa.select(Action).where(Action.programme_id == chosen.id)).scalars()
    return chosen.code, {
        a.code: ActionInfo(a.id, str(a.uuid), list(a.eligibility), dict(a.settings),
                           followup.window_settings(chosen.settings or {}, a.settings or {}),
                           a.departement, tuple(a.operators or ()))
        for a in rows
    }


def import_enrolments(session: Session, keyring: Keyring, path: str | Path, *,
                      today: dt.date, now: dt.datetime, programme: str | None = None,
                      workers: int | None = 0, progress: Progress | None = None,
                      structure: str | None = None, **options: bool) -> ImportResult:
    """Enrol (and end) every row of an enrolments file, or none (raises ImportFailed).

    ``structure`` (uuid or name): the structure of rows without ``structure_id``, and the
    one whose file numbers the file uses."""
    code, actions = actions_of(session, programme)
    where = None if structure is None else references.structure_uuid(session, structure)
    required = REQUIRED if where is None else tuple(n for n in REQUIRED if n != "structure_id")
    kind = Kind("enrolments", COLUMNS, required, prepare, references.check_columns)
    return run(session, path, kind,
               lambda columns: Context(columns, keyring, code, actions, where),
               lambda ctx, result, log: _Apply(session, ctx, result, log, today=today, now=now),
               workers=workers, progress=progress, **options)
