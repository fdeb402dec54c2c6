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
from cohort.domain.event_types import Boundary, kind_of


@dataclass(frozen=True, slots=True)
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


def order_key(e: EventFact) -> tuple[dt.date, int, int]:
    """Resolution order: date, then starts before ends, then recording order."""
    return (e.date, 0 if kind_of(e.type).boundary is Boundary.START else 1, e.seq)


class Resolver:
    """The resolution fed one fact at a time, in resolution order.

    ``resolve`` is built on it; a caller that receives a participant's events already in
    order (a chronological import) uses it to learn what each end closes without
    re-resolving the whole history at every event. Its state is only the starts still
    open, in one short list (an import keeps one resolver per participant).
    """

    __slots__ = ("_open", "last")

    def __init__(self) -> None:
        self._open: list[EventFact] = []  # starts not closed yet, in the order fed
        self.last: tuple[dt.date, int, int] | None = None

    def follows(self, e: EventFact) -> bool:
        """True when ``e`` sorts after every fact fed so far (so it may be fed next)."""
        return self.last is None or order_key(e) > self.last

    def feed(self, e: EventFact) -> EventFact | None:
        """Take the next fact; for an end, return the start it closes (None: nothing)."""
        key = order_key(e)
        if self.last is not None and key < self.last:
            raise ValueError("fact fed out of resolution order")
        self.last = key
        kind = kind_of(e.type)
        if kind.boundary is Boundary.POINT or kind.family is None:
            return None
        if kind.boundary is Boundary.START:
            self._open.append(e)
            return None
        target = self.target(e)
        if target is not None:
            self._open.remove(target)
        return target

    def target(self, e: EventFact) -> EventFact | None:
        """The start an end fed next would close (None: nothing), without feeding it."""
        kind = kind_of(e.type)
        if kind.boundary is not Boundary.END or kind.family is None:
            return None
        stack = [s for s in self._open if kind_of(s.type).family is kind.family]
        if e.closes is not None:
            return next((s for s in stack if s.key == e.closes), None)
        candidates = [s for s in stack if s.date <= e.date]
        if not candidates:
            return None
        return max(candidates, key=lambda s: (s.date, s.seq))


def resolve(events: Iterable[EventFact]) -> Resolution:
    """Resolve the intervals of one participant's non-voided events."""
    resolver = Resolver()
    opened: dict[Hashable, EventFact] = {}
    ends: dict[Hashable, EventFact] = {}
    closed_by: dict[Hashable, Hashable | None] = {}
    for e in sorted(events, key=order_key):
        target = resolver.feed(e)
        kind = kind_of(e.type)
        if kind.boundary is Boundary.POINT or kind.family is None:
            continue
        if kind.boundary is Boundary.START:
            opened[e.key] = e
            continue
        closed_by[e.key] = target.key if target is not None else None
        if target is not None:
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
