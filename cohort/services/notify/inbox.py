"""The in-app inbox: messages stored for users, and the alert messages written into it.

Messages are created in the caller's transaction; `mail` e-mails them later, so no
request ever waits on an SMTP server. Each message is unique per (recipient, alert) or
per (recipient, kind, day): a rerun creates nothing new. Texts carry the participant's
uuid and the action's code, never a name, a birth date or free text typed about the person.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cohort.actors import Actor, Role
from cohort.domain.followup import LABELS_FR, AlertCause, EmailState, NotificationKind
from cohort.models import (
    Action,
    Alert,
    Enrolment,
    Event,
    FollowUpCheck,
    Notification,
    Participant,
    Structure,
    User,
)
from cohort.services.access import OutOfScope
from cohort.services.lookup import by_uuid


def add_once(session: Session, notification: Notification) -> bool:
    """Insert unless the same message exists (a concurrent run): True when inserted."""
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:
        return False
    return True


# --- alerts --------------------------------------------------------------------------------

def referents_of(session: Session, departement: str) -> Sequence[User]:
    """Active ASE referents whose structure is in the département."""
    return session.execute(
        sa.select(User).join(Structure, Structure.id == User.structure_id)
        .where(User.role == Role.ASE_REFERENT.value, User.active.is_(True),
               Structure.departement == departement)
        .order_by(User.id)
    ).scalars().all()


def alert_text(session: Session, alert: Alert) -> tuple[str, str]:
    """Subject and body of an alert message: uuids, codes and dates only."""
    participant = session.get(Participant, alert.participant_id)
    assert participant is not None  # the foreign key guarantees it
    enrolment = session.get(Enrolment, alert.enrolment_id) if alert.enrolment_id else None
    action = session.get(Action, enrolment.action_id) if enrolment is not None else None
    event = session.get(Event, alert.event_id) if alert.event_id is not None else None
    check = session.get(FollowUpCheck, alert.check_id) if alert.check_id is not None else None
    return alert_message(
        AlertCause(alert.cause), alert.departement,
        code=action.code if action is not None else None, participant_uuid=participant.uuid,
        alert_uuid=alert.uuid, break_date=event.date if event is not None else None,
        check=(check.due_date, check.window_end) if check is not None else None)


def alert_message(cause: AlertCause, departement: str, *, code: str | None,
                  participant_uuid: uuid.UUID | str, alert_uuid: uuid.UUID | str,
                  break_date: dt.date | None = None,
                  check: tuple[dt.date, dt.date] | None = None) -> tuple[str, str]:
    """The message itself, from plain values (the import raises alerts in bulk)."""
    code = code or "—"
    lines = [
        f"Une alerte a été ouverte pour un jeune suivi au titre de l'ASE "
        f"(département {departement}).",
        "",
        f"Cause : {LABELS_FR[cause]}",
        f"Action : {code}",
        f"Participant : {participant_uuid}",
    ]
    if break_date is not None:
        lines.append(f"Date de la rupture : {break_date.isoformat()}")
    if check is not None:
        due, window_end = check
        lines.append(f"Suivi prévu le {due.isoformat()}, à réaliser au plus tard "
                     f"le {window_end.isoformat()}")
    lines += [
        f"Alerte : {alert_uuid}",
        "",
        "Prenez l'alerte en compte dans cohort (GET /api/v1/alerts), puis clôturez-la avec "
        "une note.",
        "Ce message ne contient aucune donnée d'identité.",
    ]
    return f"Alerte ASE : {LABELS_FR[cause].lower()} (action {code})", "\n".join(lines)


def alert_notifications(session: Session, alert: Alert, *,
                        now: dt.datetime) -> list[Notification]:
    """One inbox message per referent of the alert's département (none twice)."""
    subject, body = alert_text(session, alert)
    already = set(session.execute(
        sa.select(Notification.recipient_user_id).where(Notification.alert_id == alert.id)
    ).scalars())
    made = []
    for user in referents_of(session, alert.departement):
        if user.id in already:
            continue
        notification = Notification(recipient_user_id=user.id, kind=NotificationKind.ALERT.value,
                                    day=now.date(), alert_id=alert.id, subject=subject,
                                    body=body, created_at=now,
                                    email_state=EmailState.PENDING.value)
        if add_once(session, notification):
            made.append(notification)
    return made


# --- the inbox ---------------------------------------------------------------------------------

def inbox_query(actor: Actor, *, unread: bool = False) -> sa.Select[tuple[Notification]]:
    """The actor's own messages, newest first."""
    query = (sa.select(Notification).where(Notification.recipient_user_id == actor.user_id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return query


def mark_read(session: Session, actor: Actor, notification_id: uuid.UUID | str, *,
              now: dt.datetime) -> Notification:
    """Mark one of the actor's messages read (someone else's answers 404)."""
    notification = by_uuid(session, Notification, notification_id, "notification_id")
    if notification.recipient_user_id != actor.user_id:
        raise OutOfScope("notification", notification.uuid, "notification_id")
    if notification.read_at is None:
        notification.read_at = now
        session.flush()
    return notification


def notification_view(n: Notification, alert_uuid: Any = None) -> dict[str, Any]:
    return {"id": n.uuid, "kind": n.kind, "day": n.day, "subject": n.subject, "body": n.body,
            "alert_id": alert_uuid, "created_at": n.created_at, "read_at": n.read_at,
            "email_state": n.email_state}


def notification_views(session: Session, items: Sequence[Notification]) -> list[dict[str, Any]]:
    alert_ids = [n.alert_id for n in items if n.alert_id is not None]
    uuids = dict(session.execute(
        sa.select(Alert.id, Alert.uuid).where(Alert.id.in_(alert_ids))).all()) if alert_ids else {}
    return [notification_view(n, uuids.get(n.alert_id) if n.alert_id else None) for n in items]


# --- another structure joins -------------------------------------------------------------------

SHARED_SUBJECT = "Suivi partagé : {n} personne(s) que vous accompagnez suivie(s) aussi ailleurs"


def shared_follow_notices(session: Session, structure_ids: Sequence[int], *, joining: str,
                          action_code: str, start: dt.date, participant_uuid: Any,
                          now: dt.datetime) -> int:
    """Tell the coordinators of `structure_ids` that the structure `joining` now follows a
    person they follow: in the inbox (one message a day, a line per person) and in the next
    daily digest; never the person's name, only the page that opens it for them."""
    line = (f"- {joining} suit désormais une personne que votre structure accompagne "
            f"(action {action_code}, depuis le {start:%d/%m/%Y}) : "
            f"/personnes/{participant_uuid}")
    told = 0
    for structure_id in structure_ids:
        for user in coordinators_of(session, structure_id):
            today = now.date()
            existing = session.execute(sa.select(Notification).where(
                Notification.recipient_user_id == user.id,
                Notification.kind == NotificationKind.SHARED_FOLLOW.value,
                Notification.day == today)).scalar_one_or_none()
            if existing is not None:
                lines = existing.body.split("\n")
                existing.body = "\n".join([*lines[:-1], line, lines[-1]])
                existing.subject = SHARED_SUBJECT.format(n=len(lines))
                existing.read_at = None
                continue
            add_once(session, Notification(
                recipient_user_id=user.id, kind=NotificationKind.SHARED_FOLLOW.value,
                day=today, subject=SHARED_SUBJECT.format(n=1),
                body="\n".join([line, "Ce message ne contient aucune donnée d'identité."]),
                created_at=now, email_state=EmailState.SKIPPED.value))
        told += 1
    return told


def coordinators_of(session: Session, structure_id: int) -> Sequence[User]:
    return session.execute(
        sa.select(User).where(User.structure_id == structure_id,
                              User.role == Role.COORDINATOR.value, User.active.is_(True))
        .order_by(User.id)
    ).scalars().all()
