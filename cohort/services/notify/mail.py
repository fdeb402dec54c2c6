"""E-mail: the coordinators' daily digest, and SMTP delivery of pending inbox messages.

Sending happens in `cohort followups remind`, one commit per message, so a message
already e-mailed is never e-mailed again. Digests are stored in the inbox like any other
message (`inbox.add_once`) and carry uuids, codes and dates only.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from types import TracebackType
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.domain.followup import CheckStatus, EmailState, NotificationKind
from cohort.errors import ConfigError
from cohort.models import Action, FollowUpCheck, Notification, User
from cohort.services.notify.inbox import add_once, coordinators_of

# --- daily digest of follow-up checks ----------------------------------------------------------

def _last_digest_day(session: Session, user_id: int) -> dt.date | None:
    return session.execute(
        sa.select(sa.func.max(Notification.day)).where(
            Notification.recipient_user_id == user_id,
            Notification.kind == NotificationKind.FOLLOWUP_DIGEST.value)
    ).scalar_one()


def _check_line(code: str, check: FollowUpCheck) -> str:
    return (f"- action {code} · suivi {check.uuid} · échéance {check.due_date.isoformat()} · "
            f"à réaliser entre le {check.window_start.isoformat()} et le "
            f"{check.window_end.isoformat()}")


def _shared_lines(session: Session, user_id: int, *, since: dt.date,
                  today: dt.date) -> list[str]:
    """The user's "another structure now follows…" lines of (since, today]."""
    bodies = session.execute(
        sa.select(Notification.body).where(
            Notification.recipient_user_id == user_id,
            Notification.kind == NotificationKind.SHARED_FOLLOW.value,
            Notification.day > since, Notification.day <= today)
        .order_by(Notification.day)).scalars()
    return [line for body in bodies for line in body.split("\n") if line.startswith("- ")]


def digest_text(session: Session, structure_id: int, *, since: dt.date,
                today: dt.date, shared: Sequence[str] = ()) -> tuple[str, str] | None:
    """What changed for a structure in (since, today]: checks whose window opened, checks
    that became overdue, people another structure started to follow (`shared`); None
    when nothing did (no empty digest)."""
    rows = session.execute(
        sa.select(FollowUpCheck, Action.code)
        .join(Action, Action.id == FollowUpCheck.action_id)
        .where(FollowUpCheck.structure_id == structure_id,
               FollowUpCheck.status == CheckStatus.SCHEDULED.value)
        .order_by(FollowUpCheck.due_date, FollowUpCheck.id)
    ).all()
    became_due = [(c, code) for c, code in rows if since < c.window_start <= today
                  and c.window_end >= today]
    # Overdue from the day after the window's end: window_end in [since, today).
    became_overdue = [(c, code) for c, code in rows if since <= c.window_end < today]
    if not became_due and not became_overdue and not shared:
        return None
    due_total = sum(1 for c, _ in rows if c.window_start <= today <= c.window_end)
    overdue_total = sum(1 for c, _ in rows if c.window_end < today)
    lines = [f"Suivis à 6 mois au {today.isoformat()}.", ""]
    if became_due:
        lines.append(f"À réaliser (fenêtre ouverte) : {len(became_due)}")
        lines += [_check_line(code, c) for c, code in became_due]
        lines.append("")
    if became_overdue:
        lines.append(f"Passés en retard : {len(became_overdue)}")
        lines += [_check_line(code, c) for c, code in became_overdue]
        lines.append("")
    if shared:
        lines.append(f"Suivis partagés (une autre structure suit désormais la personne) : "
                     f"{len(shared)}")
        lines += list(shared)
        lines.append("")
    lines += [f"En tout : {due_total} à réaliser, {overdue_total} en retard.",
              "Liste de travail : GET /api/v1/followups?state=due&state=overdue",
              "Ce message ne contient aucune donnée d'identité."]
    subject = (f"Suivis à 6 mois : {len(became_due)} à réaliser, "
               f"{len(became_overdue)} en retard"
               + (f" ; {len(shared)} suivi(s) partagé(s)" if shared else ""))
    return subject, "\n".join(lines)


def digests(session: Session, *, today: dt.date, now: dt.datetime) -> list[Notification]:
    """Each coordinator of a structure with checks, or told of a shared follow since
    yesterday, gets at most one digest a day."""
    with_checks = sa.select(FollowUpCheck.structure_id).where(
        FollowUpCheck.status == CheckStatus.SCHEDULED.value)
    told = (sa.select(User.structure_id)
            .join(Notification, Notification.recipient_user_id == User.id)
            .where(Notification.kind == NotificationKind.SHARED_FOLLOW.value,
                   Notification.day >= today - dt.timedelta(days=1),
                   Notification.day <= today))
    both = sa.union(with_checks, told).subquery()
    column = both.c[0]
    structure_ids = session.execute(
        sa.select(column).distinct().order_by(column)).scalars().all()
    made = []
    for structure_id in structure_ids:
        for user in coordinators_of(session, structure_id):
            last = _last_digest_day(session, user.id)
            if last is not None and last >= today:
                continue
            since = last if last is not None else today - dt.timedelta(days=1)
            text = digest_text(session, structure_id, since=since, today=today,
                               shared=_shared_lines(session, user.id, since=since,
                                                    today=today))
            if text is None:
                continue
            notification = Notification(
                recipient_user_id=user.id, kind=NotificationKind.FOLLOWUP_DIGEST.value,
                day=today, subject=text[0], body=text[1], created_at=now,
                email_state=EmailState.PENDING.value)
            if add_once(session, notification):
                made.append(notification)
    return made


# --- e-mail ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "cohort@localhost"
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings | None:
        """None when SMTP_HOST is empty: messages then stay in the inbox only."""
        host = str(config.get("SMTP_HOST") or "").strip()
        if not host:
            return None
        try:
            port = int(config.get("SMTP_PORT") or 25)
        except (TypeError, ValueError):
            raise ConfigError("SMTP_PORT: must be a whole number") from None
        return cls(host=host, port=port,
                   sender=str(config.get("SMTP_FROM") or "cohort@localhost"),
                   starttls=_truthy(config.get("SMTP_STARTTLS")),
                   username=str(config.get("SMTP_USERNAME") or ""),
                   password=str(config.get("SMTP_PASSWORD") or ""))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """One SMTP connection for a run's messages (STARTTLS and login when configured)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpMailer:
        s = self.settings
        self._smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        if s.starttls:
            self._smtp.starttls(context=ssl.create_default_context())
        if s.username:
            self._smtp.login(s.username, s.password)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                self._smtp.close()
            self._smtp = None

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            raise RuntimeError("SmtpMailer used outside its with block")
        self._smtp.send_message(message)


def pending_ids(session: Session) -> list[int]:
    """Messages still to e-mail, oldest first."""
    return list(session.execute(
        sa.select(Notification.id).where(Notification.email_state == EmailState.PENDING.value)
        .order_by(Notification.id)
    ).scalars())


def skip_pending(session: Session) -> int:
    """No SMTP server configured: what is pending stays in the inbox only (never sent late)."""
    result = session.execute(
        sa.update(Notification).where(Notification.email_state == EmailState.PENDING.value)
        .values(email_state=EmailState.SKIPPED.value))
    return int(result.rowcount or 0)


def email_of(notification: Notification, recipient: str, *, sender: str,
             now: dt.datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = notification.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=str(notification.uuid),
                                       domain=sender.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notification.body)
    return message


def deliver(session: Session, notification_id: int, mailer: Mailer, *, sender: str,
            now: dt.datetime) -> bool:
    """E-mail one pending message and mark it sent; False if it was no longer pending.

    The caller commits right after each message, so a failure later in a run never makes
    an already sent message go out again.
    """
    notification = session.execute(
        sa.select(Notification).where(Notification.id == notification_id).with_for_update()
    ).scalar_one_or_none()
    if notification is None or notification.email_state != EmailState.PENDING:
        return False
    user = session.get(User, notification.recipient_user_id)
    assert user is not None  # the foreign key guarantees it
    if not user.active or not user.email:
        notification.email_state = EmailState.SKIPPED.value
        session.flush()
        return False
    mailer.send(email_of(notification, user.email, sender=sender, now=now))
    notification.email_state = EmailState.SENT.value
    notification.emailed_at = now
    session.flush()
    return True
