"""Interval resolution (domain.md §5): which end closes which start, derived from events.

Resolution is chronological over a participant's non-voided events: date order; on one
date starts before ends, then recording order. A named end (``closes``) closes its start
only if that interval is still open at that point; an implicit end closes the
latest-starting open interval of its family that started on or before its date (ties:
the later recorded). An end that finds nothing closes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from cohort.domain.enums import EventType, Family
from cohort.domain.event_types import Role, kind_of


@dataclass(frozen=True)
class EventFact:
    """The minimum the resolution needs from an event."""

    key: Hashable  # the event's identity (database id or client uuid)
    type: EventType
    date: dt.date
    seq: int  # recording order (a monotonic id)
    closes: Hashable | None = None


@dataclass(frozen=True)
class Interval:
    family: Family
    start_key: Hashable
    start_date: dt.date
    end_key: Hashable | None
    end_date: dt.date | None

    def open_at(self, d: dt.date) -> bool:
        """Open at D when start ≤ D < end (or no end)."""
        return self.start_date <= d and (self.end_date is None or d < self.end_date)


@dataclass
class Resolution:
    intervals: list[Interval]
    closed_by: dict[Hashable, Hashable | None]  # end key → start key it closed (None: nothing)


def _order(e: EventFact) -> tuple[dt.date, int, int]:
    return (e.date, 0 if kind_of(e.type).role is Role.START else 1, e.seq)


def resolve(events: Iterable[EventFact]) -> Resolution:
    """Resolve the intervals of one participant's non-voided events."""
    open_by_family: dict[Family, list[EventFact]] = {}
    opened: dict[Hashable, EventFact] = {}
    ends: dict[Hashable, EventFact] = {}
    closed_by: dict[Hashable, Hashable | None] = {}
    for e in sorted(events, key=_order):
        kind = kind_of(e.type)
        if kind.role is Role.POINT or kind.family is None:
            continue
        stack = open_by_family.setdefault(kind.family, [])
        if kind.role is Role.START:
            stack.append(e)
            opened[e.key] = e
            continue
        target: EventFact | None = None
        if e.closes is not None:
            target = next((s for s in stack if s.key == e.closes), None)
        else:
            candidates = [s for s in stack if s.date <= e.date]
            if candidates:
                target = max(candidates, key=lambda s: (s.date, s.seq))
        closed_by[e.key] = target.key if target is not None else None
        if target is not None:
            stack.remove(target)
            ends[target.key] = e
    intervals = []
    for key, start in opened.items():
        end = ends.get(key)
        intervals.append(
            Interval(
                family=kind_of(start.type).family,  # type: ignore[arg-type]
                start_key=key,
                start_date=start.date,
                end_key=end.key if end else None,
                end_date=end.date if end else None,
            )
        )
    intervals.sort(key=lambda i: (i.start_date, str(i.family)))
    return Resolution(intervals=intervals, closed_by=closed_by)
