"""The caseload ("file active"): the people a structure follows, a page at a time.

Who is in it is access.py's rule for a coordinator (domain.md §1): an enrolment with the
structure, cancelled or not, or registered by it; erased people are left out (they have no
name any more). Everything but the names is set-based SQL: the filters, the sort keys
(date of the last non-voided event, due date of the next waiting follow-up check) and the
page's details (the structure's enrolments, the open periods, the next check), one
statement each for the page's rows.

Names are sealed. A page sorted by another key decrypts only its own rows; a sort by name
or a search by name decrypts the whole filtered caseload of the structure (never another
structure's), in this request, keeping the names only. Each call writes one audit entry
(who, how many rows shown and decrypted, the filters), never the typed text.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor, Role
from cohort.domain.followup import CheckState, CheckStatus, state_on
from cohort.errors import Forbidden, Rejected
from cohort.identity import vault
from cohort.identity.keyring import Keyring, Purpose
from cohort.identity.normalise import EmptyName, normalise_name
from cohort.models import (
    Action,
    Enrolment,
    Event,
    EventInterval,
    EventVoid,
    FollowUpCheck,
    Participant,
    Structure,
)

PAGE_SIZE = 50
PAGE_SIZE_MAX = 100
SEARCH_MAX_LENGTH = 100
SORTS = ("name", "-name", "last_event", "-last_event", "due_date", "-due_date")
DEFAULT_SORT = "name"
ENROLMENT_STATES = ("open", "ended")
FOLLOWUP_STATES = (CheckState.DUE.value, CheckState.OVERDUE.value)
FILTERS = ("action_id", "enrolment", "followup", "open_period", "inactive_days")


@dataclass
class CaseloadPage:
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int
    sort: str
    decrypted: int = 0
    filters: dict[str, Any] = field(default_factory=dict)


def require_caseload(actor: Actor) -> int:
    """The structure whose caseload the actor reads: coordinators of a structure only."""
    if actor.role is not Role.COORDINATOR:
        raise Forbidden("the caseload is the coordinators' list of their structure's people")
    if actor.structure_id is None:
        raise Forbidden("your account belongs to no structure: there is no caseload to show")
    return actor.structure_id


def followed_ids(structure_id: int) -> sa.CompoundSelect[Any]:
    """The ids of the people the structure follows: access._followed_by_structure's rule
    (an enrolment with it, or registered by it), written as a union so that it is driven
    by the structure's indexes instead of a scan of every participant."""
    return sa.union(
        sa.select(Enrolment.participant_id.label("id"))
        .where(Enrolment.structure_id == structure_id),
        sa.select(Participant.id.label("id"))
        .where(Participant.registered_by_structure_id == structure_id),
    )


def _cancelled_enrolments() -> sa.Select[Any]:
    return sa.select(Enrolment.id).where(Enrolment.cancelled_at.is_not(None))


def last_event_date() -> sa.ScalarSelect[Any]:
    """The date of the participant's last event that is not voided (any structure's: the
    structure may see the fact of the others' events)."""
    return (sa.select(sa.func.max(Event.date))
            .where(Event.participant_id == Participant.id,
                   ~sa.exists().where(EventVoid.event_id == Event.id))
            .correlate(Participant).scalar_subquery())


def next_due(structure_id: int) -> sa.Subquery:
    """(participant_id, due): the due date of each participant's next waiting check of the
    structure, grouped once over the structure's checks (a correlated look-up per person
    went through the structure's whole worklist index each time: seconds at 5,000)."""
    return (sa.select(FollowUpCheck.participant_id, sa.func.min(FollowUpCheck.due_date)
                      .label("due"))
            .where(FollowUpCheck.structure_id == structure_id,
                   FollowUpCheck.status == CheckStatus.SCHEDULED.value,
                   FollowUpCheck.enrolment_id.not_in(_cancelled_enrolments()))
            .group_by(FollowUpCheck.participant_id).subquery("next_due"))


def _waiting_checks(structure_id: int, *window: Any) -> Any:
    """The participant has a waiting check of the structure in the window (set-based)."""
    return Participant.id.in_(
        sa.select(FollowUpCheck.participant_id)
        .where(FollowUpCheck.structure_id == structure_id,
               FollowUpCheck.status == CheckStatus.SCHEDULED.value,
               FollowUpCheck.enrolment_id.not_in(_cancelled_enrolments()), *window))


def _open_interval(today: dt.date) -> Any:
    """A current interval open today whose start is not tied to a cancelled enrolment
    (voided events are out already: intervals are resolved without them)."""
    return sa.and_(EventInterval.valid_to.is_(None), EventInterval.start_date <= today,
                   sa.or_(EventInterval.end_date.is_(None), EventInterval.end_date > today),
                   EventInterval.start_event_id.not_in(
                       sa.select(Event.id).where(Event.enrolment_id.in_(
                           _cancelled_enrolments()))))


def _enrolment_of(structure_id: int, action_id: int | None, *more: Any) -> Any:
    clauses = [Enrolment.participant_id == Participant.id,
               Enrolment.structure_id == structure_id, Enrolment.cancelled_at.is_(None), *more]
    if action_id is not None:
        clauses.append(Enrolment.action_id == action_id)
    return sa.exists().where(*clauses)


def _where(session: Session, structure_id: int, filters: Mapping[str, Any],
           today: dt.date) -> list[Any]:
    clauses: list[Any] = [Participant.id.in_(followed_ids(structure_id)),
                          Participant.erased_at.is_(None)]
    action_id = None
    if filters.get("action_id"):
        action_id = session.execute(sa.select(Action.id).where(
            Action.uuid == filters["action_id"])).scalar_one_or_none()
        if action_id is None:
            raise Rejected("action_id", "not found")
        clauses.append(_enrolment_of(structure_id, action_id))
    state = filters.get("enrolment")
    if state == "open":
        clauses.append(_enrolment_of(structure_id, action_id, Enrolment.end_date.is_(None)))
    elif state == "ended":
        clauses.append(_enrolment_of(structure_id, action_id, Enrolment.end_date.is_not(None)))
        clauses.append(~_enrolment_of(structure_id, action_id, Enrolment.end_date.is_(None)))
    followup = filters.get("followup")
    if followup == CheckState.DUE:
        clauses.append(_waiting_checks(structure_id, FollowUpCheck.window_start <= today,
                                       FollowUpCheck.window_end >= today))
    elif followup == CheckState.OVERDUE:
        clauses.append(_waiting_checks(structure_id, FollowUpCheck.window_end < today))
    if filters.get("open_period"):
        clauses.append(Participant.id.in_(
            sa.select(EventInterval.participant_id)
            .where(EventInterval.family == filters["open_period"], _open_interval(today))))
    if filters.get("inactive_days"):
        since = today - dt.timedelta(days=int(filters["inactive_days"]))
        clauses.append(~sa.exists().where(
            Event.participant_id == Participant.id, Event.date > since,
            ~sa.exists().where(EventVoid.event_id == Event.id)))
    return clauses


def _sorted_by(query: sa.Select[Any], sort: str, structure_id: int
               ) -> tuple[sa.Select[Any], Any]:
    """The query with the sort key (last event or next due date) as a column it can order
    by (nulls last), and that column."""
    if sort.lstrip("-") == "last_event":
        key: Any = last_event_date()
    else:
        due = next_due(structure_id)
        query = query.outerjoin(due, due.c.participant_id == Participant.id)
        key = due.c.due
    return query.add_columns(key), key


def search_terms(text: str) -> list[str]:
    """The typed text as normalised word prefixes (accents and case folded)."""
    try:
        return normalise_name(text).split()
    except EmptyName:
        raise Rejected("q", "must contain at least one letter or digit") from None


def matches(terms: Sequence[str], words: Sequence[str]) -> bool:
    """Every typed term begins some word of the last or first names."""
    return all(any(word.startswith(term) for word in words) for term in terms)


@dataclass(frozen=True, slots=True)
class _Name:
    last_name: str | None
    first_names: str | None
    words: tuple[str, ...]
    key: tuple[str, str]


_UNREADABLE = _Name(None, None, (), ("\uffff", "\uffff"))


def _names(keyring: Keyring, rows: Iterable[tuple[int, uuid.UUID | str, bytes, int]]
           ) -> dict[int, _Name]:
    """Decrypt the rows' sealed identities in one pass, keeping the names only (normalised
    too, for the search and the sort). An identity that fails authentication is shown as
    unreadable."""
    names: dict[int, _Name] = {}
    for pid, record in vault.open_many(keyring[Purpose.ENCRYPTION], "participant",
                                       "identity", rows):
        if record is None:
            names[pid] = _UNREADABLE
            continue
        last, first = record.get("last_name", ""), record.get("first_names", "")
        try:
            n_last, n_first = normalise_name(last), normalise_name(first)
        except EmptyName:
            n_last, n_first = last.upper(), first.upper()
        names[pid] = _Name(last, first, (*n_last.split(), *n_first.split()),
                           (n_last, n_first))
    return names


def caseload(session: Session, keyring: Keyring, actor: Actor, filters: Mapping[str, Any], *,
             today: dt.date, now: dt.datetime, search: str | None = None) -> CaseloadPage:
    """One page of the structure's caseload, filtered, sorted, and searched by name when
    ``search`` is given (a prefix of any word of the last or first names)."""
    structure_id = require_caseload(actor)
    sort = filters.get("sort") or DEFAULT_SORT
    if sort not in SORTS:
        raise Rejected("sort", f"must be one of {', '.join(SORTS)}")
    per_page = min(int(filters.get("per_page") or PAGE_SIZE), PAGE_SIZE_MAX)
    page = int(filters.get("page") or 1)
    if search is not None and len(search) > SEARCH_MAX_LENGTH:
        raise Rejected("q", f"at most {SEARCH_MAX_LENGTH} characters")
    terms = search_terms(search) if search is not None else None
    where = _where(session, structure_id, filters, today)
    names: dict[int, _Name]
    # The uuid as stored (text): it only goes into the seal's associated data.
    sealed = (Participant.id, sa.type_coerce(Participant.uuid, sa.String),
              Participant.identity_sealed, Participant.identity_version)
    by_name = sort.lstrip("-") == "name"
    if terms is None and not by_name:
        total = session.execute(sa.select(sa.func.count()).select_from(Participant)
                                .where(*where)).scalar_one()
        query, key = _sorted_by(sa.select(Participant.id).where(*where), sort, structure_id)
        ordered = key.desc() if sort.startswith("-") else key.asc()
        page_ids = list(session.execute(
            query.order_by(key.is_(None), ordered, Participant.id)
            .limit(per_page).offset((page - 1) * per_page)).scalars())
        names = _names(keyring, session.execute(
            sa.select(*sealed).where(Participant.id.in_(page_ids))).all())
        decrypted = len(names)
    else:
        query = sa.select(*sealed).where(*where)
        if not by_name:
            query, _ = _sorted_by(query, sort, structure_id)
        rows = list(session.execute(query).all())
        names = _names(keyring, (row[:4] for row in rows))
        decrypted = len(names)
        if terms is not None:
            rows = [row for row in rows if matches(terms, names[row[0]].words)]
        ordered_ids = _python_order(rows, names, sort, not by_name)
        total = len(ordered_ids)
        page_ids = ordered_ids[(page - 1) * per_page:page * per_page]
    items = _items(session, structure_id, page_ids, names, today)
    applied = {k: str(v) for k, v in filters.items() if k in FILTERS and v not in (None, "")}
    audit.append(session, actor, "caseload.read", now=now, target_type="structure",
                 target_id=_structure_uuid(session, structure_id),
                 fields=("first_names", "last_name"), purpose="caseload",
                 details={"rows": len(items), "decrypted": decrypted, "total": total,
                          "page": page, "sort": sort, "filters": applied,
                          "search": terms is not None})
    return CaseloadPage(items=items, page=page, per_page=per_page, total=total, sort=sort,
                        decrypted=decrypted, filters=applied)


def _python_order(rows: Sequence[Any], names: Mapping[int, _Name], sort: str,
                  keyed: bool) -> list[int]:
    """Row ids sorted by name, or by the SQL key read with them (nulls last), then id."""
    descending = sort.startswith("-")
    if not keyed:
        ordered = sorted(rows, key=lambda r: (names[r[0]].key, r[0]), reverse=descending)
        return [r[0] for r in ordered]
    present = sorted((r for r in rows if r[4] is not None), key=lambda r: r[0])
    present.sort(key=lambda r: r[4], reverse=descending)
    return [r[0] for r in present] + sorted(r[0] for r in rows if r[4] is None)


def _structure_uuid(session: Session, structure_id: int) -> Any:
    return session.execute(sa.select(Structure.uuid).where(Structure.id == structure_id)
                           ).scalar_one()


def _items(session: Session, structure_id: int, page_ids: Sequence[int],
           names: Mapping[int, _Name], today: dt.date) -> list[dict[str, Any]]:
    """The page's rows, in order: one statement for the participants, one for the
    structure's enrolments, one for the open periods, one for the waiting checks."""
    if not page_ids:
        return []
    ids = list(page_ids)
    people = {row.id: row for row in session.execute(
        sa.select(Participant.id, Participant.uuid, Participant.birth_month,
                  last_event_date().label("last_event"))
        .where(Participant.id.in_(ids)))}
    enrolments: dict[int, list[dict[str, Any]]] = {pid: [] for pid in ids}
    for e, code, action_uuid in session.execute(
            sa.select(Enrolment, Action.code, Action.uuid)
            .join(Action, Action.id == Enrolment.action_id)
            .where(Enrolment.participant_id.in_(ids), Enrolment.structure_id == structure_id)
            .order_by(Enrolment.start_date.desc(), Enrolment.id)):
        enrolments[e.participant_id].append({
            "id": e.uuid, "action_id": action_uuid, "action_code": code,
            "start_date": e.start_date, "end_date": e.end_date, "exit_reason": e.exit_reason,
            "cancelled": e.cancelled_at is not None})
    periods: dict[int, list[dict[str, Any]]] = {pid: [] for pid in ids}
    for iv, start_uuid, category in session.execute(
            sa.select(EventInterval, Event.uuid, Event.category)
            .join(Event, Event.id == EventInterval.start_event_id)
            .where(EventInterval.participant_id.in_(ids), _open_interval(today))
            .order_by(EventInterval.start_date, EventInterval.start_event_id)):
        periods[iv.participant_id].append({
            "family": iv.family, "start_date": iv.start_date, "start_event_id": start_uuid,
            "category": category})
    checks: dict[int, dict[str, Any]] = {}
    for c in session.execute(
            sa.select(FollowUpCheck).where(
                FollowUpCheck.participant_id.in_(ids),
                FollowUpCheck.structure_id == structure_id,
                FollowUpCheck.status == CheckStatus.SCHEDULED.value,
                FollowUpCheck.enrolment_id.not_in(_cancelled_enrolments()))
            .order_by(FollowUpCheck.due_date, FollowUpCheck.id)).scalars():
        checks.setdefault(c.participant_id, {
            "id": c.uuid, "due_date": c.due_date, "window_start": c.window_start,
            "window_end": c.window_end,
            "state": state_on(c.status, c.window_start, c.window_end, today).value})
    items = []
    for pid in ids:
        person, name = people[pid], names.get(pid, _UNREADABLE)
        items.append({
            "id": person.uuid, "last_name": name.last_name, "first_names": name.first_names,
            "birth_month": person.birth_month, "enrolments": enrolments[pid],
            "open_periods": periods[pid], "next_followup": checks.get(pid),
            "last_event_date": person.last_event})
    return items


def caseload_actions(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The actions the structure has enrolled people in (the choices of the action filter)."""
    structure_id = require_caseload(actor)
    rows = session.execute(
        sa.select(Action.uuid, Action.code, Action.title)
        .where(Action.id.in_(sa.select(Enrolment.action_id)
                             .where(Enrolment.structure_id == structure_id)))
        .order_by(Action.code)).all()
    return [{"id": a_uuid, "code": code, "title": title} for a_uuid, code, title in rows]
