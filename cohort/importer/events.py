"""Import pathway events: record each row as the API would, in bulk.

Rows are applied in file order, as if each were posted in turn: validated by the API's
EventCreateSchema (in workers), then checked by cohort.domain.rules against the database
and the rows before it. The ``id`` column is the idempotency key, with the API's body
digest: the same id with the same content is "unchanged" (whether it came from a file or
the API), the same id with other content is a row error.

Whether an end closes something is answered by an incremental resolver per participant
(``cohort.domain.intervals.Resolver``), so a file in date order costs one step per event;
an event older than the participant's latest falls back to resolving its whole history.
Resolvers are kept for the most recently named participants only (``remembered``); a
participant who comes back after being forgotten is read back from the database, where
the import's earlier chunks already are. Intervals are written once per touched
participant at the end, as ``refresh_intervals`` would: from the stored events, resolved
by ``cohort.domain.intervals.resolve``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Hashable
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import fields
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cohort.db import padded
from cohort.domain import rules
from cohort.domain.enums import EventType
from cohort.domain.event_types import Boundary, kind_of
from cohort.domain.intervals import EventFact, Resolver, order_key, resolve
from cohort.errors import CohortError
from cohort.identity.keyring import Keyring
from cohort.importer import references
from cohort.importer.bulk import BulkInsert
from cohort.importer.csvfile import cells_to_dict, pick
from cohort.importer.memory import REMEMBERED, IdFlags, forget_oldest, refresh
from cohort.importer.pipeline import IN_BATCH, Kind, Progress, RawRows, batches, run
from cohort.importer.report import (
    ErrorLog,
    ImportResult,
    RowError,
    error_to_rows,
    messages_to_errors,
)
from cohort.models import Enrolment, Event, EventInterval, EventVoid, Operation
from cohort.schemas.compiled import CompiledEventCreate
from cohort.schemas.event_attributes import ATTRIBUTE_SCHEMAS
from cohort.schemas.events import EventCreateSchema
from cohort.services import alerts
from cohort.services.enrolments import first_start_by_participant
from cohort.services.events import (
    START_TYPES,
    attributes_key,
    body_digest,
    canonical_body,
    facts_by_participant,
    interval_changes,
    promoted_columns,
)

SCHEMA = EventCreateSchema()
COMPILED = CompiledEventCreate(SCHEMA)  # the same results, validated once per shape
_ATTRIBUTE_FIELDS: dict[str, ma.fields.Field] = {
    name: field for cls in ATTRIBUTE_SCHEMAS.values() for name, field in cls().fields.items()
}
ATTRIBUTES = tuple(sorted(_ATTRIBUTE_FIELDS))
LINKS = ("enrolment_id", "operation_id", "closes")
COLUMNS = ("id", *references.COLUMNS, "type", "date", *LINKS, *ATTRIBUTES)
REQUIRED = ("id", "type", "date")
BOOLEANS = frozenset(n for n, f in _ATTRIBUTE_FIELDS.items() if isinstance(f, fields.Boolean))
_PID_JSON = f'"participant_id":"{references.PLACEHOLDER}"'
_TYPES = {t.value: t for t in EventType}


class Context(NamedTuple):
    columns: list[str]
    keyring: Keyring
    postgres: bool


# A valid row travels back from a worker as a plain tuple (pickling named objects costs
# several times more): (row, ref, id, type, ISO date, enrolment uuid, operation uuid,
# closes uuid, promoted values in wire form, digest). The digest is the body digest when
# the participant's uuid is in the row; otherwise the canonical body split around it, for
# the importing process to fill the resolved uuid in and hash.
Ready = tuple[int, tuple[Any, ...], str, str, str, str | None, str | None, str | None,
              tuple[Any, ...], "str | tuple[str, str]"]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _wire(event_type: EventType, attributes: dict[str, Any], postgres: bool
          ) -> tuple[Any, ...]:
    """The attributes column and the promoted ones, as the database stores them."""
    promoted = promoted_columns(event_type, attributes)
    hours = promoted["hours"]
    if hours is not None and not postgres:
        hours = float(hours)  # SQLite keeps NUMERIC as REAL (what SQLAlchemy binds there)
    return (json.dumps(attributes), promoted["category"], promoted["qualifying"],
            promoted["via_programme"], promoted["planned_months"], hours)


def prepare(ctx: Context, rows: RawRows) -> list[Ready | list[RowError]]:
    """Validate each row as the API's schema does, compiled per shape (pure: runs in worker
    processes)."""
    out: list[Ready | list[RowError]] = []
    for row, cells in rows:
        values, errors = cells_to_dict(row, ctx.columns, cells, BOOLEANS)
        if errors:
            out.append(errors)
            continue
        ref, errors = references.parse(row, values, ctx.keyring)
        raw: dict[str, Any] = pick(values, ("id", "type", "date", *LINKS))
        raw["participant_id"] = references.raw_id(values)
        raw["attributes"] = pick(values, ATTRIBUTES)
        data = COMPILED.load(raw)  # None: the schema itself decides (and words its errors)
        if data is None:
            try:
                data = SCHEMA.load(raw)
            except ma.ValidationError as exc:
                out.append(errors + messages_to_errors(row, exc.messages))
                continue
        if errors or ref is None:
            out.append(errors)
            continue
        ref = references.canonical(ref, data)
        if ref.uuid is not None:
            digest: str | tuple[str, str] = body_digest(data)
        else:
            before, after = canonical_body(data).split(_PID_JSON)
            digest = (before + '"participant_id":"', '"' + after)
        event_type = EventType(data["type"])
        out.append((row, tuple(ref), str(data["id"]), event_type.value, data["date"].isoformat(),
                    _text(data["enrolment_id"]), _text(data["operation_id"]),
                    _text(data["closes"]), _wire(event_type, data["attributes"], ctx.postgres),
                    digest))
    return out


class _Person:
    """What the rules need about one participant for the whole import.

    No event history is kept, only the resolution state (the intervals still open): a
    hundred thousand people must fit in memory. History is read back from the database
    in the rare case an event is older than the participant's latest one.
    """

    __slots__ = ("birth", "first", "resolver")

    def __init__(self, birth: dt.date | None, first: dt.date | None, resolver: Resolver):
        self.birth = birth
        self.first = first
        self.resolver = resolver


def _fed(facts: list[EventFact]) -> Resolver:
    resolver = Resolver()
    for fact in sorted(facts, key=order_key):
        resolver.feed(fact)
    return resolver


class _Recorded(NamedTuple):
    id: int
    participant_id: int
    type: str
    digest: str


class _Enrolment(NamedTuple):
    id: int
    participant_id: int
    start: dt.date
    end: dt.date | None
    cancelled: bool


class _Ids:
    """Event ids handed out in file order (they are also the recording order).

    The import holds the write transaction, so on SQLite the next ids are max + 1...;
    on PostgreSQL they are drawn from the column's sequence in blocks, so concurrent
    writers never collide with them.
    """

    def __init__(self, conn: Connection):
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.free: list[int] = []
        self.last = 0 if self.postgres else conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(Event.id), 0))).scalar_one()

    def next(self) -> int:
        if not self.postgres:
            self.last += 1
            return self.last
        if not self.free:
            self.free = sorted(self.conn.execute(sa.text(
                "SELECT nextval(pg_get_serial_sequence('event', 'id'))"
                " FROM generate_series(1, 5000)")).scalars(), reverse=True)
        return self.free.pop()


_COLUMNS = ("id", "uuid", "participant_id", "enrolment_id", "operation_id", "type", "date",
            "closes_id", "attributes", "category", "qualifying", "via_programme",
            "planned_months", "hours", "body_sha256", "recorded_at")


class _Apply:
    def __init__(self, session: Session, keyring: Keyring, result: ImportResult,
                 log: ErrorLog, *, today: dt.date, now: dt.datetime, remembered: int):
        self.session = session
        self.conn = session.connection()
        self.result = result
        self.log = log
        self.today = today
        self.now = now
        self.remembered = remembered
        self.directory = references.Directory(self.conn, keyring, limit=remembered)
        self.people: dict[int, _Person] = {}  # the most recently named, oldest first
        self.forgotten = IdFlags()  # people whose state was dropped (events may be stored)
        self.pending: dict[int, list[EventFact]] = {}  # this chunk's facts, not inserted yet
        self.touched = IdFlags()
        self.breaks: list[int] = []  # ids of the support breaks inserted (for alerts)
        self.ids = _Ids(self.conn)
        self.events = BulkInsert(self.conn, Event.__table__, _COLUMNS)
        self.intervals = BulkInsert(self.conn, EventInterval.__table__, _INTERVAL_COLUMNS)
        self.recorded_at = self.events.render("recorded_at", now)
        self.valid_from = self.intervals.render("valid_from", now)
        self._dates: dict[str, dt.date] = {}
        self._days: dict[dt.date, dt.date] = {}
        self.starts: dict[tuple[int, str, str, str], str] = {}  # see _stored_starts
        self.had_events = self.conn.execute(sa.select(Event.id).limit(1)).first() is not None

    def _date(self, iso: str) -> dt.date:
        """One date object per distinct date: the state kept for the import shares them."""
        date = self._dates.get(iso)
        if date is None:
            date = self._dates[iso] = self._day(dt.date.fromisoformat(iso))
        return date

    def _day(self, date: dt.date | None) -> dt.date | None:
        return None if date is None else self._days.setdefault(date, date)

    # --- one chunk ----------------------------------------------------------------------

    def apply(self, prepared: list[Ready | list[RowError]]) -> None:
        ready: list[Ready] = []
        for p in prepared:
            if isinstance(p, list):
                self.log.extend(p)
            else:
                ready.append(p)
        self.directory.load(p[1] for p in ready)
        stored = self._stored({p[2] for p in ready} | {p[7] for p in ready if p[7]})
        enrolments = self._enrolments({p[5] for p in ready if p[5]})
        operations = self._by_uuid(Operation, {p[6] for p in ready if p[6]})
        self._load_people(ready, stored)
        self.starts = self._stored_starts(ready)
        recorded: dict[str, _Recorded] = {}
        rows: list[tuple[Any, ...]] = []
        for p in ready:
            try:
                values = self._row(p, stored, recorded, enrolments, operations)
            except CohortError as exc:
                self.log.extend(error_to_rows(p[0], exc,
                                              {"participant_id": references.column_of(p[1])}))
                continue
            if values is not None:
                rows.append(values)
        self.events.insert(rows)
        self.breaks += [v[0] for v in rows if v[5] == EventType.SUPPORT_BREAK.value]
        self.pending.clear()
        self.result.created += len(rows)

    def _stored(self, uuids: set[str]) -> dict[str, _Recorded]:
        """Events already recorded under these ids (canonical text: compared as stored)."""
        text = sa.type_coerce(Event.uuid, sa.String)
        found = {}
        for part in batches(sorted(uuids)):
            for r in self.conn.execute(
                    sa.select(text, Event.id, Event.participant_id, Event.type,
                              Event.body_sha256).where(text.in_(padded(part)))):
                found[r[0]] = _Recorded(*r[1:])
        return found

    def _by_uuid(self, model: Any, uuids: set[str]) -> dict[str, tuple[int, int | None]]:
        """Rows named by uuid: (id, participant id if the model has one)."""
        text = sa.type_coerce(model.uuid, sa.String)
        owner = getattr(model, "participant_id", sa.null())
        found = {}
        for part in batches(sorted(uuids)):
            for r in self.conn.execute(
                    sa.select(text, model.id, owner).where(text.in_(padded(part)))):
                found[r[0]] = (r[1], r[2])
        return found

    def _stored_starts(self, ready: list[Ready]) -> dict[tuple[int, str, str, str], str]:
        """The non-voided start events already stored (earlier chunks included) that rows of
        this chunk could repeat: (participant, type, ISO date, attributes key) → uuid."""
        pids: set[int] = set()
        dates: set[str] = set()
        for p in ready:
            person = self.directory.find(p[1])
            if p[3] in START_TYPES and person is not None:
                pids.add(person.id)
                dates.add(p[4])
        found: dict[tuple[int, str, str, str], str] = {}
        if not pids:
            return found
        for part in batches(sorted(pids)):
            for r in self.conn.execute(
                    sa.select(Event.participant_id, Event.type, Event.date, Event.attributes,
                              Event.uuid)
                    .where(Event.participant_id.in_(padded(part)),
                           Event.type.in_(sorted(START_TYPES)),
                           ~sa.exists().where(EventVoid.event_id == Event.id))
                    .order_by(Event.id.desc())):
                if r.date.isoformat() not in dates:
                    continue
                found[(r.participant_id, r.type, r.date.isoformat(),
                       attributes_key(r.attributes))] = str(r.uuid)
        return found

    def _enrolments(self, uuids: set[str]) -> dict[str, _Enrolment]:
        """Enrolments named by uuid, with what the rules check of them."""
        text = sa.type_coerce(Enrolment.uuid, sa.String)
        found = {}
        for part in batches(sorted(uuids)):
            for r in self.conn.execute(
                    sa.select(text, Enrolment.id, Enrolment.participant_id, Enrolment.start_date,
                              Enrolment.end_date, Enrolment.cancelled_at.is_not(None))
                    .where(text.in_(padded(part)))):
                found[r[0]] = _Enrolment(*r[1:])
        return found

    def _load_people(self, ready: list[Ready], stored: dict[str, _Recorded]) -> None:
        """Birth, first enrolment and stored interval events of participants new to the
        import or forgotten since, after forgetting the least recently named beyond the
        limit.

        Rows already recorded (a re-import) need none of it: they are checked by digest.
        """
        named: set[int] = set()
        wanted: dict[int, tuple[Any, ...]] = {}
        for p in ready:
            person = self.directory.find(p[1])
            if person is None:
                continue
            named.add(person.id)
            if person.id not in self.people and p[2] not in stored:
                wanted.setdefault(person.id, p[1])
        refresh(self.people, named)
        for pid in forget_oldest(self.people, len(self.people) + len(wanted) - self.remembered,
                                 named):
            self.forgotten.add(pid)
        for part in batches(sorted(wanted)):
            firsts = first_start_by_participant(self.conn, part)
            # Their events recorded before this import (none at all on a first load), or
            # by its earlier chunks for someone forgotten since.
            with_events = part if self.had_events else [p for p in part if p in self.forgotten]
            facts = facts_by_participant(self.conn, with_events) if with_events else {}
            births = self.directory.births({pid: wanted[pid] for pid in part})
            for pid in part:
                self.people[pid] = _Person(self._day(births[pid]), self._day(firsts.get(pid)),
                                           _fed(facts.get(pid, [])))

    def _row(self, p: Ready, stored: dict[str, _Recorded], recorded: dict[str, _Recorded],
             enrolments: dict[str, _Enrolment],
             operations: dict[str, tuple[int, int | None]]) -> tuple[Any, ...] | None:
        """Check one row against the rules, in the API's order; its insert values if new."""
        row, ref, event_uuid, type_, iso, enrolment, operation, closes, wire, digest = p
        person = self.directory.find(ref)
        if person is None:
            raise _refused(references.column_of(ref), "not found")
        if not isinstance(digest, str):
            digest = hashlib.sha256((digest[0] + person.uuid + digest[1]).encode()).hexdigest()
        same_id = recorded.get(event_uuid) or stored.get(event_uuid)
        if same_id is not None:
            if same_id.digest != digest:
                raise _refused("id", "already used for a different event")
            self.result.unchanged += 1
            return None
        pid = person.id
        state = self.people[pid]
        event_type = _TYPES[type_]
        date = self._date(iso)
        rules.check_event_date(date, today=self.today, birth=state.birth,
                               first_start=state.first)
        enrolment_id = None
        if enrolment is not None:
            if enrolment not in enrolments:
                raise _refused("enrolment_id", "not found")
            named = enrolments[enrolment]
            enrolment_id, owner = named.id, named.participant_id
            rules.check_enrolment_link(event_type, pid, owner)
            rules.check_enrolment_not_cancelled(named.cancelled)
            rules.check_within_enrolment(event_type, date, (named.start, named.end))
        else:
            rules.check_enrolment_link(event_type, pid, None)
        operation_id = None
        if operation is not None:
            if operation not in operations:
                raise _refused("operation_id", "not found")
            operation_id = operations[operation][0]
        rules.check_operation_link(event_type, named=operation_id is not None)
        closes_id = None
        if closes is not None:
            start = recorded.get(closes) or stored.get(closes)
            rules.check_closes(event_type, pid,
                               None if start is None else (start.participant_id, start.type))
            closes_id = None if start is None else start.id
        kind = kind_of(event_type)
        start_key = None
        if kind.boundary is Boundary.START:
            start_key = (pid, type_, iso, attributes_key(json.loads(wire[0])))
            rules.check_not_identical_start(self.starts.get(start_key))
        event_id = self.ids.next()
        if kind.boundary is not Boundary.POINT:
            fact = EventFact(key=event_id, type=event_type, date=date, seq=event_id,
                             closes=closes_id)
            if kind.boundary is Boundary.END:
                rules.check_end_closes(self._closes(pid, state, fact),
                                       named=closes_id is not None)
            self._add(pid, state, fact)
        recorded[event_uuid] = _Recorded(event_id, pid, type_, digest)
        if start_key is not None:
            self.starts[start_key] = event_uuid
        return (event_id, event_uuid, pid, enrolment_id, operation_id, type_, iso, closes_id,
                *wire, digest, self.recorded_at)

    def _closes(self, pid: int, state: _Person, fact: EventFact) -> Hashable | None:
        """The start this end would close if recorded now (None: nothing)."""
        if state.resolver.follows(fact):
            target = state.resolver.target(fact)
            return None if target is None else target.key
        return resolve([*self._history(pid), fact]).closed_by.get(fact.key)

    def _add(self, pid: int, state: _Person, fact: EventFact) -> None:
        if state.resolver.follows(fact):
            state.resolver.feed(fact)
        else:  # older than the latest event: resolve the whole history again
            state.resolver = _fed([*self._history(pid), fact])
        self.pending.setdefault(pid, []).append(fact)
        self.touched.add(pid)

    def _history(self, pid: int) -> list[EventFact]:
        """The participant's interval events so far: stored (earlier chunks included) and
        accepted in this chunk."""
        stored = facts_by_participant(self.conn, [pid]).get(pid, [])
        return stored + self.pending.get(pid, [])

    # --- end of file --------------------------------------------------------------------

    def finish(self) -> None:
        """Write the touched participants' intervals as refresh_intervals would."""
        table = EventInterval.__table__
        touched = iter(self.touched)
        while part := list(islice(touched, IN_BATCH)):
            current: dict[int, list[Any]] = {}
            for row in self.conn.execute(sa.select(table).where(
                    table.c.participant_id.in_(padded(part)), table.c.valid_to.is_(None))):
                current.setdefault(row.participant_id, []).append(row)
            facts = facts_by_participant(self.conn, part)
            superseded: list[int] = []
            new: list[tuple[Any, ...]] = []
            for pid in part:
                changes = interval_changes(pid, current.get(pid, []),
                                           resolve(facts.get(pid, [])), now=self.now)
                superseded += changes.superseded
                new += [(*(values[c] for c in _INTERVAL_COLUMNS[:-2]), self.valid_from, None)
                        for values in changes.new]
            if superseded:
                self.conn.execute(
                    table.update().where(table.c.id == sa.bindparam("row_id"))
                    .values(valid_to=self.now),
                    [{"row_id": i} for i in superseded])
            self.intervals.insert(new)
        self._raise_alerts()

    def _raise_alerts(self) -> None:
        """An imported support break of an ASE youth alerts the referents, as one recorded
        through the API does (in bulk: a large file may hold a hundred thousand)."""
        for part in batches(self.breaks):
            alerts.raise_for_breaks(self.session, part, now=self.now)


_INTERVAL_COLUMNS = ("participant_id", "family", "start_event_id", "end_event_id",
                     "start_date", "end_date", "valid_from", "valid_to")


def _refused(column: str, reason: str) -> CohortError:
    return CohortError(reason, errors={column: [reason]})


KIND = Kind("events", COLUMNS, REQUIRED, prepare, references.check_columns)


def import_events(session: Session, keyring: Keyring, path: str | Path, *, today: dt.date,
                  now: dt.datetime, workers: int | None = 0,
                  progress: Progress | None = None,
                  remembered: int = REMEMBERED) -> ImportResult:
    """Record every row of an events file, or none (raises ImportFailed).

    ``remembered``: how many participants' state to keep between chunks (memory)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    return run(session, path, KIND, lambda columns: Context(columns, keyring, postgres),
               lambda _, result, log: _Apply(session, keyring, result, log,
                                             today=today, now=now, remembered=remembered),
               workers=workers, progress=progress)
