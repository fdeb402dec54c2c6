"""Imports of the changes partners record after the fact (issue 22, part 2): operations,
enrolment ends, enrolment cancellations, event voids and event corrections.

Each row is checked and written by the API's own service function (``cohort.services``:
``structures.create_operation``/``update_operation``, ``enrolment_end.end``,
``enrolments.cancel``, ``events.void``, ``events.correct``), so a row is refused exactly
as the API call would be, naming the file's column. The natural keys (a participant by
identity, NIR or file number; an enrolment by action code and start date or "the open
one"; an operation by its code; an event by the partner's own id) are resolved a chunk at a
time, with set-based look-ups. Each row runs in its own savepoint, so a refused row leaves
nothing behind when the rest of the file is still read (``--errors``, ``--dry-run``); the
file as a whole is all or nothing, like every import.

Importing the same file again changes nothing: a row whose change is already recorded
(the operation as the row describes it, the enrolment already ended that day for that
reason, already cancelled, the event already voided for that reason, the correction
already recorded under its id) is ``unchanged``. The rows act as the system (an
administrator), like the other imports; ``--structure`` scopes the file's own ids and
file numbers, and only that structure's enrolments are named by natural key.

These kinds are rare and small next to the events file: their rows go through the
services one by one (a void or a correction re-resolves the participant's intervals, as
through the API), the look-ups only are per chunk.
"""

from __future__ import annotations

import datetime as dt
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
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
from cohort.models import Action, Enrolment, Event, Operation, Structure
from cohort.schemas.enrolments import CancelSchema, EndSchema
from cohort.schemas.events import EventCreateSchema, VoidSchema
from cohort.schemas.structures import OperationCreateSchema

# --- what every kind shares ----------------------------------------------------------


@dataclass(frozen=True)
class Context:
    columns: list[str]
    keyring: Keyring
    programme: str
    actions: dict[str, str]  # action code → uuid
    structure: str | None = None  # --structure (uuid)


def _refused(column: str, reason: str) -> CohortError:
    return CohortError(reason, errors={column: [reason]})


class _Rows(ABC):
    """The importing half shared by every kind: rows applied in file order, each in its own
    savepoint, a service refusal turned into row errors naming the file's columns."""

    def __init__(self, session: Session, ctx: Context, result: ImportResult, log: ErrorLog,
                 *, today: dt.date, now: dt.datetime):
        self.session = session
        self.conn = session.connection()
        self.ctx = ctx
        self.result = result
        self.log = log
        self.today = today
        self.now = now
        self.structure_id = None if ctx.structure is None else self.conn.execute(
            sa.select(Structure.id).where(Structure.uuid == uuid.UUID(ctx.structure))
        ).scalar_one()

    def apply(self, prepared: list[Any]) -> None:
        ready = []
        for p in prepared:
            if isinstance(p, list):
                self.log.extend(p)
            else:
                ready.append(p)
        self.load(ready)
        for p in ready:
            try:
                with self.session.begin_nested():
                    self.row(p)
            except CohortError as exc:
                self.log.extend(error_to_rows(p[0], exc, self.column_of(p)))

    @abstractmethod
    def load(self, ready: list[Any]) -> None:
        """The chunk's set-based look-ups."""

    @abstractmethod
    def row(self, p: Any) -> None:
        """Apply one row through the kind's service (each kind has its own)."""

    def column_of(self, p: Any) -> Mapping[str, str]:
        """The file's column for each API field a service may name."""
        return {}

    def finish(self) -> None:
        """Every row was written by its service as it came: nothing is left to write."""
        return None


# --- operations -------------------------------------------------------------------------

OPERATION = OperationCreateSchema()
OPERATION_FIELDS = ("kind", "label", "start_date", "end_date", "planned_hours")
OPERATION_COLUMNS = ("code", "action_code", "structure_id", *OPERATION_FIELDS)
OPERATION_REQUIRED = ("code", "action_code", "kind", "label", "start_date")


def prepare_operations(ctx: Context, rows: RawRows) -> list[Any]:
    out: list[Any] = []
    for row, cells in rows:
        values, errors = cells_to_dict(row, ctx.columns, cells)
        if errors:
            out.append(errors)
            continue
        code = values.get("action_code")
        action = ctx.actions.get(code) if code else None
        if code is None:
            errors.append(RowError(row, "action_code", "Missing data for required field."))
        elif action is None:
            errors.append(RowError(row, "action_code", f"no such action in {ctx.programme}"))
        if "code" not in values:
            errors.append(RowError(row, "code", "Missing data for required field."))
        raw: dict[str, Any] = pick(values, ("code", "structure_id", *OPERATION_FIELDS))
        if ctx.structure is not None and "structure_id" not in raw:
            raw["structure_id"] = ctx.structure
        raw["action_id"] = action or references.PLACEHOLDER
        try:
            data = OPERATION.load(raw)
        except ma.ValidationError as exc:
            errors += messages_to_errors(row, exc.messages, {"action_id": "action_code"})
        if errors:
            out.append(errors)
            continue
        out.append((row, data))
    return out


class _Operations(_Rows):
    """An operation by its code: created, changed (its kind, label, dates or planned hours
    differ) through ``update_operation``, or unchanged. Another action, or another
    structure when the row names one, refuses the row."""

    def load(self, ready: list[Any]) -> None:
        self.known: dict[str, Operation] = {}
        for part in batches(sorted({p[1]["code"] for p in ready})):
            for op in self.session.execute(
                    sa.select(Operation).where(Operation.code.in_(part))).scalars():
                self.known[op.code or ""] = op

    def row(self, p: Any) -> None:
        from cohort.services import structures

        row, data = p
        existing = self.known.get(data["code"])
        if existing is None:
            created = structures.create_operation(self.session, SYSTEM, data, now=self.now)
            self.known[data["code"]] = created
            self.result.created_one(row, created.uuid)
            return
        if str(existing.action.uuid) != str(data["action_id"]):
            raise _refused("action_code", "differs from the operation recorded with this code")
        # A row without structure (no column, no --structure) says nothing about it.
        structure = None if existing.structure_id is None else self.session.get(
            Structure, existing.structure_id)
        if data.get("structure_id") is not None and (
                structure is None or str(structure.uuid) != str(data["structure_id"])):
            raise _refused("structure_id", "differs from the operation recorded with this code")
        changed = {f: data.get(f) for f in OPERATION_FIELDS if data.get(f) != getattr(existing, f)}
        if not changed:
            self.result.unchanged += 1
            return
        structures.update_operation(self.session, SYSTEM, existing, changed, now=self.now)
        self.result.changed += 1

    def column_of(self, p: Any) -> Mapping[str, str]:
        return {"action_id": "action_code"}


# --- enrolment ends and cancellations -----------------------------------------------------

ENROLMENT_KEY = (*references.COLUMNS, "enrolment_id", "action_code", "start_date")
END = EndSchema(only=("end_date", "exit_reason"))
CANCEL = CancelSchema()
END_COLUMNS = (*ENROLMENT_KEY, "end_date", "exit_reason")
CANCEL_COLUMNS = (*ENROLMENT_KEY, "reason")


def check_enrolment_columns(columns: list[str]) -> list[RowError]:
    """An enrolment is named by enrolment_id, or by its participant and action_code."""
    if "enrolment_id" in columns:
        return []
    errors = references.check_columns(columns)
    if "action_code" not in columns:
        errors.append(RowError(1, "action_code", "missing column (or give enrolment_id)"))
    return errors


# An enrolment key travels as ("id", uuid) or ("key", ref, action code, ISO start or None).
EnrolmentKey = tuple[Any, ...]


def _enrolment_key(row: int, values: dict[str, str], ctx: Context
                   ) -> tuple[EnrolmentKey | None, list[RowError]]:
    if "enrolment_id" in values:
        named = [n for n in ("action_code", "start_date", *references.COLUMNS) if n in values]
        if named:
            return None, [RowError(row, "enrolment_id", "give enrolment_id or the participant "
                                                        "and action_code, not both")]
        try:
            return ("id", str(uuid.UUID(values["enrolment_id"]))), []
        except ValueError:
            return None, [RowError(row, "enrolment_id", "Not a valid UUID.")]
    ref, errors = references.parse(row, values, ctx.keyring, ctx.structure)
    if ref is not None and ref.uuid is not None:
        try:
            ref = Ref(uuid=str(uuid.UUID(ref.uuid)))
        except ValueError:
            errors.append(RowError(row, references.BY_ID, "Not a valid UUID."))
    code = values.get("action_code")
    if code is None:
        errors.append(RowError(row, "action_code", "Missing data for required field."))
    elif code not in ctx.actions:
        errors.append(RowError(row, "action_code", f"no such action in {ctx.programme}"))
    start = values.get("start_date")
    if start is not None:
        try:
            start = dt.date.fromisoformat(start).isoformat()
        except ValueError:
            errors.append(RowError(row, "start_date", "Not a valid date."))
    if errors or ref is None:
        return None, errors
    return ("key", tuple(ref), code, start), []


def _prepare_with(schema: ma.Schema, fields: tuple[str, ...]
                  ) -> Callable[[Context, RawRows], list[Any]]:
    def prepare(ctx: Context, rows: RawRows) -> list[Any]:
        out: list[Any] = []
        for row, cells in rows:
            values, errors = cells_to_dict(row, ctx.columns, cells)
            if errors:
                out.append(errors)
                continue
            key, errors = _enrolment_key(row, values, ctx)
            try:
                data = schema.load(pick(values, fields))
            except ma.ValidationError as exc:
                errors += messages_to_errors(row, exc.messages)
            if errors or key is None:
                out.append(errors)
                continue
            out.append((row, key, data))
        return out
    return prepare


class _Enrolments(_Rows):
    """Finds the enrolment each row names: by uuid, or the participant's enrolment in the
    action starting that day, else the open one (``pick`` says which when none is open)."""

    def load(self, ready: list[Any]) -> None:
        self.directory = references.Directory(self.conn, self.ctx.keyring)
        keyed = [p[1] for p in ready if p[1][0] == "key"]
        self.directory.load(k[1] for k in keyed)
        self.by_uuid: dict[str, Enrolment] = {}
        text = sa.type_coerce(Enrolment.uuid, sa.String)
        for part in batches(sorted({p[1][1] for p in ready if p[1][0] == "id"})):
            for e in self.session.execute(sa.select(Enrolment).where(text.in_(part))).scalars():
                self.by_uuid[str(e.uuid)] = e
        pids = sorted({person.id for k in keyed if (person := self.directory.find(k[1]))})
        self.mine: dict[tuple[int, str], list[Enrolment]] = {}
        codes = {v: c for c, v in self.ctx.actions.items()}
        action_uuid = sa.type_coerce(Action.uuid, sa.String).label("action_uuid")
        for part in batches(pids):
            query = (sa.select(Enrolment, action_uuid)
                     .join(Action, Action.id == Enrolment.action_id)
                     .where(Enrolment.participant_id.in_(part)))
            if self.structure_id is not None:
                query = query.where(Enrolment.structure_id == self.structure_id)
            for e, action in self.session.execute(query.order_by(Enrolment.id)):
                code = codes.get(action)
                if code is not None:
                    self.mine.setdefault((e.participant_id, code), []).append(e)

    def enrolment(self, p: Any) -> Enrolment:
        key = p[1]
        if key[0] == "id":
            found = self.by_uuid.get(key[1])
            if found is None:
                raise _refused("enrolment_id", "not found")
            return found
        _, ref, code, start = key
        person = self.directory.find(ref)
        if person is None:
            raise _refused(references.column_of(ref), "not found")
        candidates = self.mine.get((person.id, code), [])
        if start is not None:
            hit = [e for e in candidates if e.start_date.isoformat() == start]
            hit.sort(key=lambda e: (e.cancelled_at is None, e.id))
            if hit:
                return hit[-1]
            raise _refused("start_date", "no enrolment of the participant in this action "
                                         "starts that day")
        open_ = [e for e in candidates if e.end_date is None and e.cancelled_at is None]
        if open_:
            return open_[-1]
        found = self.pick(candidates, p)
        if found is None:
            raise _refused("action_code", "the participant has no open enrolment in this "
                                          "action (give start_date)")
        return found

    def pick(self, candidates: list[Enrolment], p: Any) -> Enrolment | None:
        """None open: the one this row's change was already made to, if any."""
        return None

    def column_of(self, p: Any) -> Mapping[str, str]:
        key = p[1]
        if key[0] == "id":
            return {}
        return {"participant_id": references.column_of(key[1]), "enrolment_id": "action_code"}


class _Ends(_Enrolments):
    """``enrolment_end.end``: the enrolment ends on end_date for exit_reason; the same end
    again is unchanged, another end of an ended enrolment is refused as by the API."""

    def pick(self, candidates: list[Enrolment], p: Any) -> Enrolment | None:
        data = p[2]
        same = [e for e in candidates if e.cancelled_at is None
                and e.end_date == data["end_date"] and e.exit_reason == data["exit_reason"]]
        return same[-1] if same else None

    def row(self, p: Any) -> None:
        from cohort.services import enrolment_end

        row, _, data = p
        enrolment = self.enrolment(p)
        if (enrolment.cancelled_at is None and enrolment.end_date == data["end_date"]
                and enrolment.exit_reason == data["exit_reason"]):
            self.result.unchanged += 1
            return
        enrolment_end.end(self.session, self.ctx.keyring, SYSTEM, enrolment, dict(data),
                          today=self.today, now=self.now)
        self.result.ended += 1


class _Cancellations(_Enrolments):
    """``enrolments.cancel``: cancelling again answers the same (unchanged)."""

    def pick(self, candidates: list[Enrolment], p: Any) -> Enrolment | None:
        cancelled = [e for e in candidates if e.end_date is None and e.cancelled_at is not None]
        return cancelled[-1] if cancelled else None

    def row(self, p: Any) -> None:
        from cohort.services import enrolments

        row, _, data = p
        enrolment = self.enrolment(p)
        if enrolment.cancelled_at is not None:
            self.result.unchanged += 1
            return
        enrolments.cancel(self.session, SYSTEM, enrolment.uuid, data["reason"], now=self.now)
        self.result.cancelled += 1


# --- event voids and corrections ---------------------------------------------------------

VOID = VoidSchema()
VOID_COLUMNS = ("id", "reason")


def _event_uuid(row: int, column: str, values: dict[str, str], ctx: Context,
                errors: list[RowError]) -> str | None:
    if column not in values:
        errors.append(RowError(row, column, "Missing data for required field."))
        return None
    mapped = references.client_uuid(values[column], ctx.structure)
    if mapped is None:
        errors.append(RowError(row, column, "not a uuid (give --structure to use your own "
                                            "ids)"))
    return mapped


def prepare_voids(ctx: Context, rows: RawRows) -> list[Any]:
    out: list[Any] = []
    for row, cells in rows:
        values, errors = cells_to_dict(row, ctx.columns, cells)
        if errors:
            out.append(errors)
            continue
        event = _event_uuid(row, "id", values, ctx, errors)
        try:
            data = VOID.load(pick(values, ("reason",)))
        except ma.ValidationError as exc:
            errors += messages_to_errors(row, exc.messages)
        if errors or event is None:
            out.append(errors)
            continue
        out.append((row, event, data["reason"]))
    return out


def _events_by_uuid(session: Session, uuids: set[str]) -> dict[str, Event]:
    text = sa.type_coerce(Event.uuid, sa.String)
    found: dict[str, Event] = {}
    for part in batches(sorted(uuids)):
        for e in session.execute(sa.select(Event).where(text.in_(part))).scalars():
            found[str(e.uuid)] = e
    return found


class _Voids(_Rows):
    """``events.void``: the event voided for the reason; voided already for the same
    reason: unchanged; for another: refused as by the API."""

    def load(self, ready: list[Any]) -> None:
        self.events = _events_by_uuid(self.session, {p[1] for p in ready})

    def row(self, p: Any) -> None:
        from cohort.services import events

        row, event_uuid, reason = p
        event = self.events.get(event_uuid)
        if event is None:
            raise _refused("id", "not found")
        if event.void is not None and event.void.reason == reason.strip():
            self.result.unchanged += 1
            return
        events.void(self.session, SYSTEM, event, reason, now=self.now)
        self.result.voided += 1

    def column_of(self, p: Any) -> Mapping[str, str]:
        return {"event_id": "id"}


EVENT = EventCreateSchema()
# The correction's reason; ``reason`` is an attribute of some event types.
WHY = "correction_reason"


def _correction_columns() -> tuple[str, ...]:
    from cohort.importer import events

    return ("corrects", WHY, *events.COLUMNS)


def prepare_corrections(ctx: Context, rows: RawRows) -> list[Any]:
    """The replacement event as an events file gives it, with the event it corrects
    (``corrects``: its uuid or the partner's id) and why (``reason``)."""
    from cohort.importer import events

    out: list[Any] = []
    for row, cells in rows:
        values, errors = cells_to_dict(row, ctx.columns, cells, events.BOOLEANS)
        if errors:
            out.append(errors)
            continue
        corrects = _event_uuid(row, "corrects", values, ctx, errors)
        try:
            reason = VOID.load({"reason": values.pop(WHY, "")})["reason"]
        except ma.ValidationError as exc:
            errors += messages_to_errors(row, exc.messages, {"reason": WHY})
        ref, more = references.parse(row, values, ctx.keyring, ctx.structure)
        errors += more
        keyed = events._keyed_links(row, values, ctx.structure, errors)
        raw: dict[str, Any] = pick(values, ("id", "type", "date", *events.LINKS))
        raw["participant_id"] = references.raw_id(values)
        raw["attributes"] = pick(values, events.ATTRIBUTES)
        try:
            data = EVENT.load(raw)
        except ma.ValidationError as exc:
            errors += messages_to_errors(row, exc.messages)
        if errors or ref is None or corrects is None:
            out.append(errors)
            continue
        out.append((row, corrects, reason, tuple(references.canonical(ref, data)), data,
                    keyed[0], keyed[1]))
    return out


class _Corrections(_Rows):
    """``events.correct``: the old event voided and its replacement recorded, as the API's
    correction; the same correction again (same replacement id, same body): unchanged."""

    def load(self, ready: list[Any]) -> None:
        self.directory = references.Directory(self.conn, self.ctx.keyring)
        self.directory.load(p[3] for p in ready)

    def row(self, p: Any) -> None:
        from cohort.services import events

        row, corrects, reason, ref, data, enrolment, operation = p
        person = self.directory.find(ref)
        if person is None:
            raise _refused(references.column_of(ref), "not found")
        data = {**data, "participant_id": person.uuid}
        if enrolment is not None:
            data["enrolment_id"] = self._enrolment(person.id, enrolment, data["date"])
        if operation is not None:
            found = self.session.execute(sa.select(Operation.uuid).where(
                Operation.code == operation[1])).scalar()
            if found is None:
                raise _refused("operation_code", "not found")
            data["operation_id"] = found
        if not self.session.execute(sa.select(Event.id).where(
                Event.uuid == uuid.UUID(corrects))).first():
            raise _refused("corrects", "not found")
        recorded = events.correct(self.session, self.ctx.keyring, SYSTEM, corrects, data,
                                  reason, today=self.today, now=self.now)
        if recorded.created:
            self.result.corrected += 1
            if self.result.keep_ids:
                self.result.created_ids[row] = str(recorded.event.uuid)
        else:
            self.result.unchanged += 1

    def _enrolment(self, pid: int, key: tuple[Any, ...], date: dt.date) -> Any:
        """As the events import names it: starting that day, else whose period holds the
        date (an open one first); never a cancelled one."""
        _, code, start = key
        action = self.ctx.actions.get(code)
        rows = self.session.execute(
            sa.select(Enrolment.uuid, Enrolment.start_date, Enrolment.end_date)
            .join(Action, Action.id == Enrolment.action_id)
            .where(Enrolment.participant_id == pid, Enrolment.cancelled_at.is_(None),
                   sa.type_coerce(Action.uuid, sa.String) == (action or ""))).all()
        if start is not None:
            hit = [r for r in rows if r.start_date.isoformat() == start]
        else:
            hit = sorted((r for r in rows if r.start_date <= date
                          and (r.end_date is None or date <= r.end_date)),
                         key=lambda r: (r.end_date is not None, r.start_date))
        if not hit:
            raise _refused("action_code", "not found")
        return hit[0].uuid

    def column_of(self, p: Any) -> Mapping[str, str]:
        return {"participant_id": references.column_of(p[3]), "event_id": "corrects",
                "reason": WHY}


# --- the import functions -------------------------------------------------------------------

KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], Any, Any, Any]] = {
    # name: (columns, required, prepare, check_columns, applier)
    "operations": (OPERATION_COLUMNS, OPERATION_REQUIRED, prepare_operations, None,
                   _Operations),
    "enrolment-ends": (END_COLUMNS, ("end_date", "exit_reason"),
                       _prepare_with(END, ("end_date", "exit_reason")),
                       check_enrolment_columns, _Ends),
    "cancellations": (CANCEL_COLUMNS, ("reason",), _prepare_with(CANCEL, ("reason",)),
                      check_enrolment_columns, _Cancellations),
    "voids": (VOID_COLUMNS, VOID_COLUMNS, prepare_voids, None, _Voids),
    "corrections": ((), ("corrects", WHY, "id", "type", "date"), prepare_corrections,
                    references.check_columns, _Corrections),
}


def import_changes(kind: str, session: Session, keyring: Keyring, path: str | Path, *,
                   today: dt.date, now: dt.datetime, programme: str | None = None,
                   workers: int | None = 0, progress: Progress | None = None,
                   structure: str | None = None, **options: bool) -> ImportResult:
    """Apply every row of a file of this kind (KINDS), or none (raises ImportFailed)."""
    from cohort.importer.enrolments import actions_of
    from cohort.models import Programme

    columns, required, prepare, check, applier = KINDS[kind]
    if kind == "corrections":
        columns = _correction_columns()
    code, actions = "", {}
    if session.execute(sa.select(Programme.id).limit(1)).first() is not None or \
            kind == "operations":
        code, infos = actions_of(session, programme)
        actions = {c: a.uuid for c, a in infos.items()}
    where = None if structure is None else references.structure_uuid(session, structure)
    return run(session, path, Kind(kind, columns, required, prepare, check),
               lambda cols: Context(cols, keyring, code, actions, where),
               lambda ctx, result, log: applier(session, ctx, result, log, today=today,
                                                now=now),
               workers=workers, progress=progress, **options)
