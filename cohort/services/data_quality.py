"""What needs a coordinator's attention in their structure's data (issue 17, item 5).

Each kind of problem is one set-based select over the structure's own data, registered in
``KINDS``: a new kind (e.g. pending link requests) is one more ``register(Kind(...))``
with its select; the API, the page and the counts pick it up. Every select answers the
same columns: the person (public uuid), the row concerned (public uuid), the date the
line is about, and a short code for what it is (a family, an action).

Lines name the person by an opaque short reference and link to their page; no identity is
decrypted here (names are read on the person's page, with a purpose, audited).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort.actors import Actor, Role
from cohort.domain.calendar import add_months
from cohort.domain.enums import ExitReason
from cohort.domain.followup import CheckStatus
from cohort.errors import Forbidden, NotFound
from cohort.models import (
    Action,
    Enrolment,
    Event,
    EventInterval,
    EventVoid,
    FollowUpCheck,
    Participant,
)
from cohort.models.link_requests import LinkRequest, LinkRequestStatus
from cohort.services.need_to_know import owned_by

STALE_MONTHS = 12


@dataclass(frozen=True)
class Kind:
    """One kind of line: its code (API), its French title (page) and its select.

    ``rows(structure_id, today)`` returns a select of the labelled columns
    ``participant_uuid``, ``subject_uuid``, ``since`` (a date) and ``detail`` (a code).
    """

    code: str
    title_fr: str
    description: str
    rows: Callable[[int, dt.date], sa.Select[Any]]


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.code] = kind
    return kind


def _followed(structure_id: int) -> sa.ColumnElement[bool]:
    """The participant (``Participant``) is followed by the structure (access rules)."""
    return sa.or_(
        sa.exists().where(Enrolment.participant_id == Participant.id,
                          Enrolment.structure_id == structure_id),
        Participant.registered_by_structure_id == structure_id)


_LATER = aliased(Event, name="later")
_LATER_VOID = aliased(EventVoid, name="later_void")


def _stale_periods(structure_id: int, today: dt.date) -> sa.Select[Any]:
    """Periods the structure opened more than 12 months ago, still open, with no event of
    the person dated in the last 12 months: probably over, never closed."""
    cutoff = add_months(today, -STALE_MONTHS)
    recent = sa.exists().where(
        _LATER.participant_id == EventInterval.participant_id, _LATER.date > cutoff,
        ~sa.exists().where(_LATER_VOID.event_id == _LATER.id))
    return (
        sa.select(Participant.uuid.label("participant_uuid"), Event.uuid.label("subject_uuid"),
                  EventInterval.start_date.label("since"), EventInterval.family.label("detail"))
        .join(Event, Event.id == EventInterval.start_event_id)
        .join(Participant, Participant.id == EventInterval.participant_id)
        .where(EventInterval.valid_to.is_(None), EventInterval.end_date.is_(None),
               EventInterval.start_date < cutoff, owned_by(structure_id),
               _followed(structure_id), ~recent)
    )


def _overdue_checks(structure_id: int, today: dt.date) -> sa.Select[Any]:
    """Six-month checks of the structure still not done after their window."""
    return (
        sa.select(Participant.uuid.label("participant_uuid"),
                  FollowUpCheck.uuid.label("subject_uuid"), FollowUpCheck.due_date.label("since"),
                  Action.code.label("detail"))
        .join(Participant, Participant.id == FollowUpCheck.participant_id)
        .join(Action, Action.id == FollowUpCheck.action_id)
        .join(Enrolment, Enrolment.id == FollowUpCheck.enrolment_id)
        .where(FollowUpCheck.structure_id == structure_id,
               FollowUpCheck.status == CheckStatus.SCHEDULED.value,
               FollowUpCheck.window_end < today, Enrolment.cancelled_at.is_(None))
    )


def _ended_without_reason(structure_id: int, today: dt.date) -> sa.Select[Any]:
    """Enrolments of the structure ended with no real exit reason: the database requires
    a reason with every end (ck_enrolment_exit_reason_with_end), so the one that says
    nothing, ``other``, is what needs a look."""
    return (
        sa.select(Participant.uuid.label("participant_uuid"),
                  Enrolment.uuid.label("subject_uuid"), Enrolment.end_date.label("since"),
                  Action.code.label("detail"))
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(Action, Action.id == Enrolment.action_id)
        .where(Enrolment.structure_id == structure_id, Enrolment.end_date.is_not(None),
               sa.func.coalesce(Enrolment.exit_reason, ExitReason.OTHER.value)
               == ExitReason.OTHER.value,
               Enrolment.cancelled_at.is_(None))
    )


def _events_without_enrolment(structure_id: int, today: dt.date) -> sa.Select[Any]:
    """People the structure follows (registered, or an enrolment since cancelled) who have
    events but no valid enrolment of the structure; dated by their latest event."""
    valid_enrolment = sa.exists().where(Enrolment.participant_id == Participant.id,
                                        Enrolment.structure_id == structure_id,
                                        Enrolment.cancelled_at.is_(None))
    return (
        sa.select(Participant.uuid.label("participant_uuid"),
                  Participant.uuid.label("subject_uuid"), sa.func.max(Event.date).label("since"),
                  sa.null().label("detail"))
        .join(Event, Event.participant_id == Participant.id)
        .outerjoin(EventVoid, EventVoid.event_id == Event.id)
        .where(EventVoid.id.is_(None), _followed(structure_id), ~valid_enrolment)
        .group_by(Participant.id, Participant.uuid)
    )


def _link_requests_pending(structure_id: int, today: dt.date) -> sa.Select[Any]:
    """Link requests the structure filed that no administrator has decided yet (the
    person is the record the structure registered; the other record stays hidden)."""
    return (
        sa.select(Participant.uuid.label("participant_uuid"),
                  LinkRequest.uuid.label("subject_uuid"),
                  sa.func.date(LinkRequest.created_at, type_=sa.Date).label("since"),
                  LinkRequest.cause.label("detail"))
        .join(Participant, Participant.id == LinkRequest.participant_id)
        .where(LinkRequest.structure_id == structure_id,
               LinkRequest.status == LinkRequestStatus.PENDING.value)
    )


register(Kind("stale_open_period", "Périodes ouvertes depuis plus de 12 mois sans événement",
              "periods the structure recorded, open for more than 12 months, with no event "
              "of the person in the last 12 months", _stale_periods))
register(Kind("followup_overdue", "Suivis à 6 mois en retard",
              "six-month checks not done after their window", _overdue_checks))
register(Kind("ended_without_exit_reason",
              "Accompagnements clos sans motif de sortie précis (« Autre motif »)",
              "enrolments ended without a real exit reason (exit_reason 'other')",
              _ended_without_reason))
register(Kind("events_without_enrolment",
              "Personnes avec des événements mais sans accompagnement de la structure",
              "people with events but no valid enrolment of the structure",
              _events_without_enrolment))
register(Kind("link_request_pending", "Demandes de rapprochement en attente",
              "link requests the structure filed, not yet decided by an administrator",
              _link_requests_pending))


@dataclass(frozen=True)
class Line:
    kind: str
    participant_id: uuid.UUID
    reference: str  # an opaque short reference (the uuid's first 8 characters)
    subject_id: uuid.UUID
    since: dt.date | None
    detail: str | None


@dataclass(frozen=True)
class Group:
    kind: str
    title_fr: str
    description: str
    total: int
    page: int
    per_page: int
    items: list[Line]


def structure_of(actor: Actor) -> int:
    """Coordinators (and administrators) see their own structure's data quality."""
    if actor.role not in (Role.COORDINATOR, Role.ADMIN) or actor.structure_id is None:
        raise Forbidden("the data-quality list is a structure's own")
    return actor.structure_id


def counts(session: Session, actor: Actor, *, today: dt.date) -> dict[str, int]:
    """How many lines of each kind, one count statement per kind."""
    structure_id = structure_of(actor)
    return {code: _count(session, kind.rows(structure_id, today))
            for code, kind in KINDS.items()}


def _count(session: Session, query: sa.Select[Any]) -> int:
    return int(session.execute(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one())


def report(session: Session, actor: Actor, *, today: dt.date, kind: str | None = None,
           page: int = 1, per_page: int = 50) -> list[Group]:
    """One page of each kind (or of ``kind`` only), oldest date first."""
    structure_id = structure_of(actor)
    if kind is not None and kind not in KINDS:
        raise NotFound("kind: not found", errors={"kind": ["unknown kind"]})
    groups = []
    for code in [kind] if kind else list(KINDS):
        spec = KINDS[code]
        query = spec.rows(structure_id, today)
        inner = query.subquery()
        rows = session.execute(
            sa.select(inner).order_by(inner.c.since, inner.c.subject_uuid)
            .limit(per_page).offset((page - 1) * per_page)).all()
        groups.append(Group(
            kind=code, title_fr=spec.title_fr, description=spec.description,
            total=_count(session, query), page=page, per_page=per_page,
            items=[Line(kind=code, participant_id=r.participant_uuid,
                        reference=str(r.participant_uuid)[:8].upper(),
                        subject_id=r.subject_uuid, since=r.since, detail=r.detail)
                   for r in rows]))
    return groups
