"""The counts of a user's home page, each one set-based over the query of the list it counts.

Participants followed (open enrolments of one's structure), alerts by status (the alert
list's own scoping), unread messages (the inbox's own query): one aggregate statement each,
so a home page costs a handful of queries whatever the volume.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor
from cohort.domain.followup import AlertStatus
from cohort.models import Enrolment, Participant
from cohort.services import alerts, notify


def followed_count(session: Session, structure_id: int) -> int:
    """Participants (not erased) with an open, not cancelled, enrolment in the structure."""
    return int(session.execute(
        sa.select(sa.func.count(sa.distinct(Enrolment.participant_id)))
        .join(Participant, Participant.id == Enrolment.participant_id)
        .where(Enrolment.structure_id == structure_id, Enrolment.end_date.is_(None),
               Enrolment.cancelled_at.is_(None), Participant.erased_at.is_(None))
    ).scalar_one())


def alert_counts(session: Session, actor: Actor) -> dict[str, int]:
    """The actor's alerts (as the alert list scopes them) by status, in one query."""
    listed = alerts.alert_query(actor, {}).order_by(None).subquery()
    counts = {s.value: 0 for s in AlertStatus}
    for status, count in session.execute(
            sa.select(listed.c.status, sa.func.count()).group_by(listed.c.status)):
        counts[status] = int(count)
    return counts


def unread_count(session: Session, actor: Actor) -> int:
    """The actor's messages not yet read."""
    query = notify.inbox_query(actor, unread=True).order_by(None).subquery()
    return int(session.execute(sa.select(sa.func.count()).select_from(query)).scalar_one())
