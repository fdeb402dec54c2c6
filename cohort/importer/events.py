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
import uuid
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
from cohort.models import Enrolment, Event, EventInterval, EventVoid, Operation, Programme
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
# Natural keys for the links (issue 22): the enrolment by its action (and start date, else
# the one whose period holds the event's date), the operation by its code.
KEYED_LINKS = ("action_code", "enrolment_start", "operation_code")
COLUMNS = ("id", *references.COLUMNS, "type", "date", *LINKS, *KEYED_LINKS, *ATTRIBUTES)
REQUIRED = ("id", "type", "date")
BOOLEANS = frozenset(n for n, f in _ATTRIBUTE_FIELDS.items() if isinstance(f, fields.Boolean))
# Stand-ins for the links a row names by natural key, in the body the digest hashes: the
# importing process puts the resolved uuids in their place, so an event's digest is the
# API's body digest whichever way its file named things (issue 22: exports round-trip).
_PID_JSON = f'"participant_id":"{references.PLACEHOLDER}"'
_ENROLMENT_KEY = uuid.UUID("00000000-0000-0000-0000-00000000e001")
_OPERATION_KEY = uuid.UUID("00000000-0000-0000-0000-00000000e002")
_ENROLMENT_JSON = f'"enrolment_id":"{_ENROLMENT_KEY}"'
_OPERATION_JSON = f'"operation_id":"{_OPERATION_KEY}"'
_TYPES = {t.value: t for t in EventType}


class Context(NamedTuple):
    columns: list[str]
    keyring: Keyring
    postgres: bool
    structure: str | None = None  # uuid: scopes client ids and file numbers


# A valid row travels back from a worker as a plain tuple (pickling named objects costs
# several times more): (row, ref, id, type, ISO date, enrolment uuid, operation uuid,
# closes uuid, promoted values in wire form, digest). The digest is the body digest when
# the row names everything by uuid; otherwise (the canonical body,) with stand-ins for the
# importing process to replace by the resolved uuids, then hash.
Ready = tuple[int, tuple[Any, ...], str, str, str, Any, Any, str | None,
              tuple[Any, ...], "str | tuple[str]"]


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
        ref, errors = references.parse(row, values, ctx.keyring, ctx.structure)
        keyed = _keyed_links(row, values, ctx.structure, errors)
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
        digest: str | tuple[str] = _digest(data, ref.uuid is None, keyed)
        event_type = EventType(data["type"])
        out.append((row, tuple(ref), str(data["id"]), event_type.value, data["date"].isoformat(),
                    keyed[0] or _text(data["enrolment_id"]),
                    keyed[1] or _text(data["operation_id"]),
                    _text(data["closes"]), _wire(event_type, data["attributes"], ctx.postgres),
                    digest))
    return out


def _digest(data: dict[str, Any], by_key: bool, keyed: tuple[Any, Any]) -> str | tuple[str]:
    """The body digest, or the body with stand-ins for what the row names by key."""
    if not by_key and keyed == (None, None):
        return body_digest(data)
    if keyed[0] is not None:
        data["enrolment_id"] = _ENROLMENT_KEY
    if keyed[1] is not None:
        data["operation_id"] = _OPERATION_KEY
    return (canonical_body(data),)


def _keyed_links(row: int, values: dict[str, str], structure: str | None,
                 errors: list[RowError]) -> tuple[Any, Any]:
    """Turn the row's natural keys into what the rest of the import handles: client ids
    into uuids (``id``, ``closes``), and the keyed enrolment and operation into tuples
    resolved by the importing process. Changes ``values`` in place."""
    for name in ("id", "closes"):
        if name in values:
            mapped = references.client_uuid(values[name], structure)
            if mapped is None:
                errors.append(RowError(row, name, "not a uuid (give --structure to use your "
                                                  "own ids)"))
            else:
                values[name] = mapped
    enrolment = operation = None
    code, start = values.pop("action_code", None), values.pop("enrolment_start", None)
    if start is not None and code is None:
        errors.append(RowError(row, "action_code", "required with enrolment_start"))
    if code is not None:
        if "enrolment_id" in values:
            errors.append(RowError(row, "action_code", "give enrolment_id or action_code, "
                                                       "not both"))
        if start is not None:
            try:
                start = dt.date.fromisoformat(start).isoformat()
            except ValueError:
                errors.append(RowError(row, "enrolment_start",
                                       "Not a valid date (expected YYYY-MM-DD)."))
        enrolment = ("action", code, start)
    op_code = values.pop("operation_code", None)
    if op_code is not None:
        if "operation_id" in values:
            errors.append(RowError(row, "operation_code", "give operation_id or "
                                                          "operation_code, not both"))
        operation = ("code", op_code)
    return enrolment, operation


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
    uuid: str


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
                 log: ErrorLog, *, today: dt.date, now: dt.datetime, remembered: int,
                 actions: dict[str, int] | None = None):
        self.session = session
        self.actions = actions or {}  # action code → id, for rows naming enrolments so
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
        self.operation_uuids: dict[int, str] = {}  # of the operations named by code
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
        enrolments = self._enrolments({p[5] for p in ready if isinstance(p[5], str)})
        enrolments |= self._keyed_enrolments(ready)
        operations = self._by_uuid(Operation, {p[6] for p in ready if isinstance(p[6], str)})
        operations |= self._by_code({p[6][1] for p in ready if isinstance(p[6], tuple)})
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

    def _by_code(self, codes: set[str]) -> dict[Any, tuple[int, int | None]]:
        """Operations named by their code, keyed as the rows name them; their uuids go to
        ``operation_uuids`` (the digest's)."""
        found: dict[Any, tuple[int, int | None]] = {}
        for part in batches(sorted(codes)):
            for code, oid, public in self.conn.execute(
                    sa.select(Operation.code, Operation.id, Operation.uuid)
                    .where(Operation.code.in_(part))):
                found[("code", code)] = (oid, None)
                self.operation_uuids[oid] = str(public)
        return found

    def _keyed_enrolments(self, ready: list[Ready]) -> dict[Any, _Enrolment]:
        """Enrolments named by (participant, action code[, start date]): the one starting
        that day, else the one whose period holds the event's date (an open one first);
        cancelled enrolments are never named. Keyed (key tuple, participant id, date)."""
        wanted: dict[int, list[Ready]] = {}
        for p in ready:
            if isinstance(p[5], tuple) and (person := self.directory.find(p[1])) is not None:
                wanted.setdefault(person.id, []).append(p)
        found: dict[Any, _Enrolment] = {}
        if not wanted:
            return found
        mine: dict[tuple[int, int], list[_Enrolment]] = {}
        for part in batches(sorted(wanted)):
            for r in self.conn.execute(
                    sa.select(Enrolment.participant_id, Enrolment.action_id, Enrolment.id,
                              Enrolment.start_date, Enrolment.end_date, Enrolment.uuid)
                    .where(Enrolment.participant_id.in_(padded(part)),
                           Enrolment.cancelled_at.is_(None))):
                mine.setdefault((r[0], r[1]), []).append(
                    _Enrolment(r[2], r[0], r[3], r[4], False, str(r[5])))
        for pid, rows in wanted.items():
            for p in rows:
                _, code, start = p[5]
                action = self.actions.get(code)
                candidates = mine.get((pid, action), []) if action is not None else []
                date = dt.date.fromisoformat(p[4])
                if start is not None:
                    hit = [e for e in candidates if e.start.isoformat() == start]
                else:
                    hit = sorted((e for e in candidates if e.start <= date
                                  and (e.end is None or date <= e.end)),
                                 key=lambda e: (e.end is not None, e.start))
                if hit:
                    found[(p[5], pid, p[4])] = hit[0]
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
                found[r[0]] = _Enrolment(*r[1:], r[0])
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
            digest = self._filled(digest[0], person, enrolment, operation, iso,
                                  enrolments, operations)
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
            key = enrolment if isinstance(enrolment, str) else (enrolment, pid, iso)
            if key not in enrolments:
                raise _refused("enrolment_id" if isinstance(enrolment, str) else "action_code",
                               "not found")
            named = enrolments[key]
            enrolment_id, owner = named.id, named.participant_id
            rules.check_enrolment_link(event_type, pid, owner)
            rules.check_enrolment_not_cancelled(named.cancelled)
            rules.check_within_enrolment(event_type, date, (named.start, named.end))
        else:
            rules.check_enrolment_link(event_type, pid, None)
        operation_id = None
        if operation is not None:
            if operation not in operations:
                raise _refused("operation_id" if isinstance(operation, str)
                               else "operation_code", "not found")
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
        self.result.created_one(row, event_uuid)
        if start_key is not None:
            self.starts[start_key] = event_uuid
        return (event_id, event_uuid, pid, enrolment_id, operation_id, type_, iso, closes_id,
                *wire, digest, self.recorded_at)

    def _filled(self, body: str, person: references.Person, enrolment: Any, operation: Any,
                iso: str, enrolments: dict[Any, _Enrolment],
                operations: dict[Any, tuple[int, int | None]]) -> str:
        """The API's body digest of a row naming things by key: the resolved uuids in the
        stand-ins' places (a link not found keeps its stand-in; the row is refused below,
        unless its id was already used, which a different digest refuses)."""
        body = body.replace(_PID_JSON, f'"participant_id":"{person.uuid}"')
        if isinstance(enrolment, tuple) and (named := enrolments.get(
                (enrolment, person.id, iso))) is not None:
            body = body.replace(_ENROLMENT_JSON, f'"enrolment_id":"{named.uuid}"')
        if isinstance(operation, tuple) and operation in operations:
            public = self.operation_uuids[operations[operation][0]]
            body = body.replace(_OPERATION_JSON, f'"operation_id":"{public}"')
        return hashlib.sha256(body.encode()).hexdigest()

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
                  remembered: int = REMEMBERED, structure: str | None = None,
                  programme: str | None = None, **options: bool) -> ImportResult:
    """Record every row of an events file, or none (raises ImportFailed).

    ``remembered``: how many participants' state to keep between chunks (memory).
    ``structure`` (uuid or name): scopes the file's own event ids and file numbers.
    ``programme``: whose action codes ``action_code`` uses (default: the latest)."""
    from cohort.importer.enrolments import actions_of

    postgres = session.get_bind().dialect.name == "postgresql"
    where = None if structure is None else references.structure_uuid(session, structure)
    codes: dict[str, int] = {}
    if session.execute(sa.select(Programme.id).limit(1)).first() is not None:
        codes = {code: a.id for code, a in actions_of(session, programme)[1].items()}
    return run(session, path, KIND, lambda columns: Context(columns, keyring, postgres, where),
               lambda _, result, log: _Apply(session, keyring, result, log,
                                             today=today, now=now, remembered=remembered,
                                             actions=codes),
               workers=workers, progress=progress, **options)
