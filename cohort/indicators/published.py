"""Published aggregates computed once (issue 20, part 4): the store behind ``cohort publish``.

A stored cut is the protected output of the read services (``queries.indicators`` /
``queries.cohorts`` in published mode) for one programme, action set, period, as-of date,
grain and disclosure rules, kept as JSON with the *watermark* of the data change log it
was computed at (migration 0024: database triggers log, for each write to a table the
indicators read, the earliest date whose figures it can change). A request that matches a
stored cut is served from it while no write logged since can change figures as of its
as-of date — today's new events, dated after the end of last month, leave it current — so
a stale table is never shown; anything else is computed live as before. The check is one
index range over the writes since the cut was computed, whatever the size of the data.

The watermark is read before the figures, in the same transaction: a write that lands in
between counts as since, so the cut is not served and the next run stores it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.db import NUMBER_CHANGES
from cohort.indicators.base import Cut
from cohort.indicators.publish import Rules
from cohort.models import DataChange, Programme, PublishedAggregate

KINDS = ("indicators", "cohorts")


def programme_digest(programme: Programme) -> str:
    """The programme file's own digest and load time (a reloaded file changes targets and
    settings)."""
    return repr((programme.source_sha256, str(programme.loaded_at)))


def watermark(session: Session) -> str:
    """Where the data change log stands for this transaction's reads.

    PostgreSQL: ``snapshot|xid|id`` — the snapshot, and this transaction's own id with the
    last log row it wrote so far (its own writes are in its figures but, being in
    progress, not "visible" in its snapshot). SQLite: the highest mark (one writer at a
    time: marks follow commits)."""
    if session.get_bind().dialect.name == "postgresql":
        snapshot, own, last = session.execute(sa.text(
            "SELECT pg_current_snapshot()::text, "
            "coalesce(pg_current_xact_id_if_assigned()::text::bigint, -1), "
            "(SELECT coalesce(max(id), 0) FROM data_change WHERE "
            " mark = pg_current_xact_id_if_assigned()::text::bigint)")).one()
        return f"{snapshot}|{own}|{last}"
    # Pending days can only be this transaction's own writes (one writer at a time),
    # which its figures include: number them now, under the watermark.
    session.execute(sa.text(NUMBER_CHANGES))
    return str(session.execute(
        sa.select(sa.func.coalesce(sa.func.max(DataChange.mark), 0))).scalar_one())


def data_version(programme: Programme, mark: str) -> str:
    return hashlib.sha256(f"{programme_digest(programme)}|{mark}".encode()).hexdigest()


_CHANGED = {
    # Writes since the snapshot: committed after it was taken (its transaction neither
    # finished before it nor seen by it); the index on (mark, day) starts at its xmin.
    "postgresql": sa.text(
        # The publishing transaction's own writes are judged by their order (a snapshot
        # does not list its own transaction as in progress): after its watermark, since.
        "SELECT EXISTS (SELECT 1 FROM data_change WHERE mark = :own AND id > :last "
        "AND day <= :as_of) OR EXISTS (SELECT 1 FROM data_change WHERE "
        "mark >= pg_snapshot_xmin(CAST(:snapshot AS pg_snapshot))::text::bigint "
        "AND mark <> :own AND day <= :as_of "
        "AND NOT pg_visible_in_snapshot(mark::text::xid8, CAST(:snapshot AS pg_snapshot)))"),
    # Numbered after the mark, or still pending (0: written, numbered as it commits).
    "sqlite": sa.select(sa.exists().where(
        sa.or_(DataChange.mark > sa.bindparam("mark", type_=sa.BigInteger),
               DataChange.mark == 0),
        DataChange.day <= sa.bindparam("as_of", type_=sa.Date))),
}


def changed_since(session: Session, mark: str, as_of: dt.date) -> bool:
    """Whether a write logged since ``mark`` can change figures as of ``as_of``: one
    index range over the writes since then, whatever the size of the data."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        snapshot, own, last = mark.split("|")
        values: dict[str, Any] = {"snapshot": snapshot, "own": int(own), "last": int(last)}
    else:
        values = {"mark": int(mark)}
    return bool(session.execute(_CHANGED[dialect], {**values, "as_of": as_of}).scalar_one())


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


def current(session: Session, programme: Programme, key: str) -> int | None:
    """The id of this cut's newest stored body if it is still current: computed from the
    programme file as loaded now, and no write logged since can change its figures."""
    row = session.execute(
        sa.select(PublishedAggregate.id, PublishedAggregate.data_version,
                  PublishedAggregate.watermark, PublishedAggregate.as_of)
        .where(PublishedAggregate.cut_key == key)
        .order_by(PublishedAggregate.id.desc()).limit(1)).first()
    if row is None or row.watermark is None:
        return None
    if row.data_version != data_version(programme, row.watermark):
        return None
    return None if changed_since(session, row.watermark, row.as_of) else row.id


def store(session: Session, programme: Programme, kind: str, key: str, as_of: dt.date,
          mark: str, body: Any, *, now: dt.datetime) -> None:
    """Store a cut's body, replacing the older ones of the same cut."""
    session.execute(sa.delete(PublishedAggregate).where(PublishedAggregate.cut_key == key))
    session.add(PublishedAggregate(programme_id=programme.id, kind=kind, cut_key=key,
                                   as_of=as_of, data_version=data_version(programme, mark),
                                   watermark=mark, payload=encode(body), computed_at=now))
    session.flush()


def prune_log(session: Session) -> int:
    """Forget the logged writes every stored cut already sees (PostgreSQL: older than the
    oldest stored snapshot's xmin; SQLite keeps one row per day and needs no pruning)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    return int(session.execute(sa.text(
        "DELETE FROM data_change WHERE mark < (SELECT min(pg_snapshot_xmin(CAST("
        "split_part(watermark, '|', 1) AS pg_snapshot))::text::bigint) "
        "FROM published_aggregate WHERE watermark IS NOT NULL)")).rowcount or 0)


def lookup(session: Session, programme: Programme, key: str) -> Any | None:
    """The stored body of this cut if it is still current, else None: an index look-up of
    the cut, then one of the writes logged since it was computed."""
    found = current(session, programme, key)
    if found is None:
        return None
    return decode(session.execute(sa.select(PublishedAggregate.payload).where(
        PublishedAggregate.id == found)).scalar_one())
