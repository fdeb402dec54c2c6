"""Alerts to ASE referents when an ASE youth's pathway fails (domain.md §6).

A `support_break` of an ASE youth, or an ASE youth's overdue follow-up check, raises one
alert (one per source, whatever the retries) for the referents of the youth's
département; they acknowledge it, then close it with a note. An alert names the
participant by uuid and the action by code: never an identity.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from cohort import audit
from cohort.actors import Actor, Role
from cohort.db import padded
from cohort.domain.enums import Departement, EventType
from cohort.domain.followup import AlertCause, AlertStatus, EmailState, NotificationKind
from cohort.errors import Conflict, Forbidden, Rejected
from cohort.models import (
    Action,
    Alert,
    Enrolment,
    Event,
    FollowUpCheck,
    Notification,
    Participant,
    Structure,
)
from cohort.services import notify
from cohort.services.access import OutOfScope
from cohort.services.lookup import by_uuid


def departement_of(session: Session, participant: Participant,
                   enrolment: Enrolment | None) -> str | None:
    """The youth's home département; else the action's; for a joint action, the structure's."""
    if participant.home_departement:
        return participant.home_departement
    if enrolment is None:
        return None
    action = session.get(Action, enrolment.action_id)
    if action is not None and action.departement != Departement.JOINT:
        return action.departement
    structure = session.get(Structure, enrolment.structure_id)
    return structure.departement if structure is not None else None


class RecordedFacts(Protocol):
    """What the alert hook reads of an event just recorded."""

    id: int
    participant_id: int
    enrolment_id: int | None
    type: str


def on_event_recorded(session: Session, event: RecordedFacts, *,
                      now: dt.datetime) -> Alert | None:
    """events.record's hook: an ASE youth's support break raises an alert."""
    if event.type != EventType.SUPPORT_BREAK:
        return None
    participant = session.get(Participant, event.participant_id)
    if participant is None or not participant.ase_past:
        return None
    enrolment = session.get(Enrolment, event.enrolment_id) if event.enrolment_id else None
    return _raise(session, participant, enrolment, AlertCause.SUPPORT_BREAK,
                  {"event_id": event.id}, now=now)


def raise_for_overdue(session: Session, check: FollowUpCheck, *,
                      now: dt.datetime) -> Alert | None:
    """An ASE youth's check is overdue: alert the referents (once per check)."""
    participant = session.get(Participant, check.participant_id)
    if participant is None or not participant.ase_past:
        return None
    enrolment = session.get(Enrolment, check.enrolment_id)
    return _raise(session, participant, enrolment, AlertCause.OVERDUE_CHECK,
                  {"check_id": check.id}, now=now)


def _raise(session: Session, participant: Participant, enrolment: Enrolment | None,
           cause: AlertCause, source: dict[str, int], *, now: dt.datetime) -> Alert | None:
    (column, value), = source.items()
    existing = session.execute(
        sa.select(Alert).where(getattr(Alert, column) == value)).scalar_one_or_none()
    if existing is not None:
        return existing
    departement = departement_of(session, participant, enrolment)
    if departement is None:
        return None  # no département known: nobody to alert (the worklist still shows it)
    alert = Alert(participant_id=participant.id,
                  enrolment_id=enrolment.id if enrolment is not None else None,
                  departement=departement, cause=cause.value, status=AlertStatus.OPEN.value,
                  created_at=now, **source)
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        # A concurrent request raised it first: one alert per source.
        return session.execute(
            sa.select(Alert).where(getattr(Alert, column) == value)).scalar_one()
    notify.alert_notifications(session, alert, now=now)
    return alert


def raise_for_breaks(session: Session, event_ids: Sequence[int], *, now: dt.datetime) -> int:
    """The alerts on_event_recorded would raise for these events, raised in bulk.

    For an import of many support breaks: one select finds the ASE youths' breaks that
    have no alert yet and their département (departement_of, in SQL), then alerts and
    their messages are inserted together. The caller holds the events' own uncommitted
    transaction, so no concurrent request can raise an alert for them; it passes the ids a
    batch at a time (an IN list). Returns the number of alerts raised.
    """
    departement = sa.func.coalesce(
        sa.func.nullif(Participant.home_departement, ""),
        sa.case((Action.departement != Departement.JOINT.value, Action.departement),
                else_=Structure.departement))
    found = session.execute(
        sa.select(Event.id, Event.participant_id, Event.enrolment_id, Event.date,
                  Participant.uuid, Action.code, departement)
        .join(Participant, Participant.id == Event.participant_id)
        .outerjoin(Enrolment, Enrolment.id == Event.enrolment_id)
        .outerjoin(Action, Action.id == Enrolment.action_id)
        .outerjoin(Structure, Structure.id == Enrolment.structure_id)
        .outerjoin(Alert, Alert.event_id == Event.id)
        .where(Event.id.in_(padded(event_ids)), Event.type == EventType.SUPPORT_BREAK.value,
               Participant.ase_past.is_(True), Alert.id.is_(None),
               departement.is_not(None))
        .order_by(Event.id)).all()
    if not found:
        return 0
    rows = [{"uuid": uuid.uuid4(), "participant_id": r[1], "enrolment_id": r[2],
             "departement": r[6], "cause": AlertCause.SUPPORT_BREAK.value,
             "status": AlertStatus.OPEN.value, "event_id": r[0], "created_at": now}
            for r in found]
    session.execute(sa.insert(Alert), rows)
    ids = dict(session.execute(sa.select(Alert.event_id, Alert.id).where(
        Alert.event_id.in_(padded(r["event_id"] for r in rows)))).all())
    messages = []
    referents: dict[str, list[int]] = {}
    for alert, (event_id, _, _, date, participant_uuid, code, dep) in zip(
            rows, found, strict=True):
        if dep not in referents:
            referents[dep] = [u.id for u in notify.referents_of(session, dep)]
        subject, body = notify.alert_message(
            AlertCause.SUPPORT_BREAK, dep, code=code, participant_uuid=participant_uuid,
            alert_uuid=alert["uuid"], break_date=date)
        messages += [{"uuid": uuid.uuid4(), "recipient_user_id": user_id,
                      "kind": NotificationKind.ALERT.value, "day": now.date(),
                      "alert_id": ids[event_id], "subject": subject, "body": body,
                      "created_at": now, "email_state": EmailState.PENDING.value}
                     for user_id in referents[dep]]
    if messages:
        session.execute(sa.insert(Notification), messages)
    return len(rows)


# --- reading and handling alerts -----------------------------------------------------------

def _visible(actor: Actor) -> sa.ColumnElement[bool]:
    if actor.role is Role.ASE_REFERENT and actor.departement:
        return Alert.departement == actor.departement
    if actor.role in (Role.ADMIN, Role.SYSTEM):
        return sa.true()
    raise Forbidden("alerts are for ASE referents")


def alert_query(actor: Actor, filters: dict[str, Any]) -> sa.Select[tuple[Alert]]:
    """The alerts of the actor's département, newest first, optionally by status and cause."""
    query = sa.select(Alert).where(_visible(actor)).order_by(Alert.created_at.desc(),
                                                              Alert.id.desc())
    if filters.get("status"):
        query = query.where(Alert.status.in_(filters["status"]))
    if filters.get("cause"):
        query = query.where(Alert.cause == filters["cause"])
    return query


def alert_views(session: Session, alerts: list[Alert]) -> list[dict[str, Any]]:
    """Plain dicts with the related public uuids and the action code (one query)."""
    if not alerts:
        return []
    check = aliased(FollowUpCheck)
    rows = session.execute(
        sa.select(Alert.id, Participant.uuid, Enrolment.uuid, Action.code, Event.uuid,
                  Event.date, check.uuid, check.due_date)
        .join(Participant, Participant.id == Alert.participant_id)
        .outerjoin(Enrolment, Enrolment.id == Alert.enrolment_id)
        .outerjoin(Action, Action.id == Enrolment.action_id)
        .outerjoin(Event, Event.id == Alert.event_id)
        .outerjoin(check, check.id == Alert.check_id)
        .where(Alert.id.in_([a.id for a in alerts]))
    ).all()
    related = {r[0]: r for r in rows}
    views = []
    for a in alerts:
        _, p_uuid, e_uuid, code, ev_uuid, ev_date, c_uuid, due = related[a.id]
        views.append({
            "id": a.uuid, "participant_id": p_uuid, "enrolment_id": e_uuid, "action_code": code,
            "departement": a.departement, "cause": a.cause, "event_id": ev_uuid,
            "event_date": ev_date, "check_id": c_uuid, "check_due_date": due,
            "status": a.status, "note": a.note, "created_at": a.created_at,
            "acknowledged_at": a.acknowledged_at, "closed_at": a.closed_at,
            "version": a.version,
        })
    return views


def _handled_alert(session: Session, actor: Actor, alert_id: uuid.UUID | str,
                   expected_version: int | None) -> Alert:
    alert = by_uuid(session, Alert, alert_id, "alert_id")
    if not session.execute(sa.select(Alert.id).where(Alert.id == alert.id, _visible(actor))
                           ).first():
        raise OutOfScope("alert", alert.uuid, "alert_id")
    if expected_version is not None and expected_version != alert.version:
        raise Conflict("the alert changed since it was read",
                       errors={"expected_version": ["stale"]})
    return alert


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("the alert changed since it was read",
                       errors={"expected_version": ["already changed by someone else"]}
                       ) from None


def acknowledge(session: Session, actor: Actor, alert_id: uuid.UUID | str,
                data: dict[str, Any], *, now: dt.datetime) -> Alert:
    """A referent takes the alert in hand (open → acknowledged)."""
    alert = _handled_alert(session, actor, alert_id, data.get("expected_version"))
    if alert.status != AlertStatus.OPEN:
        raise Conflict(f"the alert is already {alert.status}", errors={"status": [alert.status]})
    alert.status = AlertStatus.ACKNOWLEDGED.value
    alert.acknowledged_at = now
    alert.acknowledged_by_user_id = actor.user_id
    _flush(session)
    audit.append(session, actor, "alert.acknowledge", now=now, target_type="alert",
                 target_id=alert.uuid)
    return alert


def close(session: Session, actor: Actor, alert_id: uuid.UUID | str, data: dict[str, Any],
          *, now: dt.datetime) -> Alert:
    """Close an open or acknowledged alert with a note saying what was done."""
    alert = _handled_alert(session, actor, alert_id, data.get("expected_version"))
    note = (data.get("note") or "").strip()
    if not note:
        raise Rejected("note", "a note is required to close an alert")
    if alert.status == AlertStatus.CLOSED:
        raise Conflict("the alert is already closed", errors={"status": ["closed"]})
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by_user_id = actor.user_id
    alert.status = AlertStatus.CLOSED.value
    alert.note = note
    alert.closed_at = now
    alert.closed_by_user_id = actor.user_id
    _flush(session)
    audit.append(session, actor, "alert.close", now=now, target_type="alert",
                 target_id=alert.uuid)
    return alert


WITHDRAWN_NOTE = "Alerte retirée : l'inscription a été annulée (saisie par erreur)."


def withdraw_for_enrolment(session: Session, actor: Actor, enrolment_id: int, *,
                           now: dt.datetime) -> int:
    """Close, as withdrawn, the open or acknowledged alerts raised from a cancelled
    enrolment (its support breaks, its overdue check): they no longer stand, and their
    e-mails still pending are skipped. Closed ones stay as they are. Returns how many were
    withdrawn; each is audited."""
    of_check = sa.select(FollowUpCheck.id).where(FollowUpCheck.enrolment_id == enrolment_id)
    withdrawn = session.execute(
        sa.select(Alert).where(
            sa.or_(Alert.enrolment_id == enrolment_id, Alert.check_id.in_(of_check)),
            Alert.status != AlertStatus.CLOSED.value)
        .order_by(Alert.id)
    ).scalars().all()
    for alert in withdrawn:
        if alert.acknowledged_at is None:
            alert.acknowledged_at = now
            alert.acknowledged_by_user_id = actor.user_id
        alert.status = AlertStatus.CLOSED.value
        alert.note = WITHDRAWN_NOTE
        alert.closed_at = now
        alert.closed_by_user_id = actor.user_id
    _flush(session)
    if withdrawn:  # their e-mails not yet sent are not sent (the in-app message stays)
        session.execute(
            sa.update(Notification)
            .where(Notification.alert_id.in_([a.id for a in withdrawn]),
                   Notification.email_state == EmailState.PENDING.value)
            .values(email_state=EmailState.SKIPPED.value))
    for alert in withdrawn:
        audit.append(session, actor, "alert.withdraw", now=now, target_type="alert",
                     target_id=alert.uuid, details={"cause": "enrolment_cancelled"})
    return len(withdrawn)
