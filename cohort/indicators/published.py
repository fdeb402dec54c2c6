"""Published aggregates computed once (issue 20, part 4): the store behind ``cohort publish``.

A stored cut is the protected output of the read services (``queries.indicators`` /
``queries.cohorts`` in published mode) for one programme, action set, period, as-of date,
grain and disclosure rules, kept as JSON beside the *data version* it was computed from:
a digest of a cheap, set-based snapshot of every table the indicator statements read
(counts, highest ids and in-place change markers). A request that matches a stored cut is
served from it only while the data version is still the current one, so a stale table is
never shown; anything else is computed live as before.

The digest is computed before the figures, in the same transaction: a write that lands
in between makes the stored version older than the figures, never newer, so it is not
served and the next run stores it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.indicators.base import Cut
from cohort.indicators.publish import Rules
from cohort.models import (
    Enrolment,
    Erasure,
    Event,
    EventInterval,
    EventVoid,
    FollowUpCheck,
    Operation,
    Participant,
    ParticipantLink,
    Programme,
    PublishedAggregate,
)

KINDS = ("indicators", "cohorts")
STORED_GRAIN = "quarter"


def _snapshot_columns() -> list[Any]:
    """One scalar per (table, marker): rows added or removed move a count or a highest
    id; rows changed in place (an enrolment ended or cancelled, a check recorded, an
    interval closed, an operation's hours set, a duplicate linked) move a version sum,
    a highest timestamp or a count of filled columns."""
    def scalar(*columns: Any) -> list[Any]:
        return [sa.select(c).scalar_subquery() for c in columns]

    return [
        *scalar(sa.func.count(Event.id), sa.func.max(Event.id)),
        *scalar(sa.func.count(EventVoid.id), sa.func.max(EventVoid.id)),
        *scalar(sa.func.count(EventInterval.id), sa.func.max(EventInterval.id),
                sa.func.count(EventInterval.valid_to), sa.func.count(EventInterval.end_event_id)),
        *scalar(sa.func.count(Enrolment.id), sa.func.max(Enrolment.id),
                sa.func.sum(Enrolment.version)),
        *scalar(sa.func.count(FollowUpCheck.id), sa.func.max(FollowUpCheck.id),
                sa.func.sum(FollowUpCheck.version)),
        *scalar(sa.func.count(Operation.id), sa.func.max(Operation.id),
                sa.func.max(Operation.updated_at), sa.func.max(Operation.planned_hours_set_at)),
        *scalar(sa.func.count(Participant.merged_into_id)),
        *scalar(sa.func.count(ParticipantLink.id), sa.func.max(ParticipantLink.id),
                sa.func.count(ParticipantLink.unlinked_at)),
        *scalar(sa.func.count(Erasure.id), sa.func.max(Erasure.id)),
    ]


def data_version(session: Session, programme: Programme) -> str:
    """The digest of the inputs' snapshot: one statement of aggregates over whole tables
    (index-only on PostgreSQL for the counts and highest ids), and the programme file's
    own digest and load time (a reloaded programme changes targets and settings)."""
    row = session.execute(sa.select(*_snapshot_columns())).one()
    text = repr((programme.source_sha256, str(programme.loaded_at),
                 tuple(str(v) for v in row)))
    return hashlib.sha256(text.encode()).hexdigest()


def cut_key(kind: str, programme: str, actions: list[str], cut: Cut, rules: Rules,
            grain: str | None = None) -> str:
    """What makes two requests the same cut, as one string."""
    return "|".join([kind, programme, ",".join(sorted(actions)), cut.period_from.isoformat(),
                     cut.period_to.isoformat(), cut.as_of.isoformat(), grain or "-",
                     f"k={rules.k}", f"base={rules.rounding_base}"])


def standard_periods(programme: Programme, as_of: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The cuts published each night: the programme's whole period (what a request
    without dates asks), the current calendar year and the last closed one, those that
    meet the programme's period."""
    periods = [(programme.period_start, programme.period_end)]
    for year in (as_of.year, as_of.year - 1):
        period = (dt.date(year, 1, 1), dt.date(year, 12, 31))
        if (period[0] <= programme.period_end and period[1] >= programme.period_start
                and period not in periods):
            periods.append(period)
    return periods


def last_complete_month_end(today: dt.date) -> dt.date:
    return today.replace(day=1) - dt.timedelta(days=1)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _typed(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        (key, value), = obj.items()
        if key == "$decimal":
            return Decimal(value)
        if key == "$datetime":
            return dt.datetime.fromisoformat(value)
        if key == "$date":
            return dt.date.fromisoformat(value)
    return obj


def encode(body: Any) -> str:
    """JSON that gives back the same Python values (decimals and dates included), so a
    stored cut serialises exactly as the live one."""
    return json.dumps(body, default=_plain, ensure_ascii=False, sort_keys=False)


def decode(text: str) -> Any:
    return json.loads(text, object_hook=_typed)


def is_stored(session: Session, key: str, version: str) -> bool:
    return session.execute(sa.select(PublishedAggregate.id).where(
        PublishedAggregate.cut_key == key,
        PublishedAggregate.data_version == version)).first() is not None


def store(session: Session, programme: Programme, kind: str, key: str, as_of: dt.date,
          version: str, body: Any, *, now: dt.datetime) -> None:
    session.add(PublishedAggregate(programme_id=programme.id, kind=kind, cut_key=key,
                                   as_of=as_of, data_version=version, payload=encode(body),
                                   computed_at=now))
    session.flush()


def lookup(session: Session, programme: Programme, key: str) -> Any | None:
    """The stored body of this cut if one was computed from the current data, else None.
    No stored cut at all costs one index look-up; the data version is computed only
    when there is one."""
    versions = set(session.execute(
        sa.select(PublishedAggregate.data_version)
        .where(PublishedAggregate.cut_key == key)).scalars())
    if not versions:
        return None
    current = data_version(session, programme)
    if current not in versions:
        return None
    payload = session.execute(sa.select(PublishedAggregate.payload).where(
        PublishedAggregate.cut_key == key,
        PublishedAggregate.data_version == current)).scalar_one()
    return decode(payload)
