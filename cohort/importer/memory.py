"""Bounded per-participant state for imports of files naming millions of people.

An import remembers what it learnt about a participant (who they are, the intervals
still open) so that a file in date order costs one look-up per person, not one per row.
Kept for the whole file, that state grew with the people in it (787 MB at 1,000,000
participants, docs/performance.md); these helpers keep the most recently used entries
only, the rest being read back from the database, where the import's own earlier
chunks already are, when a person comes back.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

# Participants whose state an import keeps: about 80 MB of Python objects for the events
# import; a file in date order mostly names the same people from one chunk to the next.
REMEMBERED = 100_000


def forget_oldest(entries: dict[Any, Any], count: int, keep: Collection[Any]) -> list[Any]:
    """Drop up to ``count`` of the oldest entries (insertion order; ``refresh`` makes an
    entry young again), sparing those in ``keep``; the dropped keys, oldest first."""
    dropped: list[Any] = []
    if count <= 0:
        return dropped
    for key in entries:
        if key not in keep:
            dropped.append(key)
            if len(dropped) == count:
                break
    for key in dropped:
        del entries[key]
    return dropped


def refresh(entries: dict[Any, Any], keys: Collection[Any]) -> None:
    """Move these keys (those present) to the young end: used now, forgotten last."""
    for key in keys:
        if key in entries:
            entries[key] = entries.pop(key)


class IdFlags:
    """A set of non-negative row ids in one byte each: a million participants take a
    megabyte, where a Python set of ints takes about sixty."""

    __slots__ = ("_flags",)

    def __init__(self) -> None:
        self._flags = bytearray()

    def add(self, value: int) -> None:
        if value >= len(self._flags):
            self._flags.extend(bytes(max(value + 1 - len(self._flags), len(self._flags))))
        self._flags[value] = 1

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and 0 <= value < len(self._flags) and \
            self._flags[value] == 1

    def __iter__(self) -> Iterator[int]:
        """The ids in increasing order."""
        flags = self._flags
        start = flags.find(1)
        while start != -1:
            yield start
            start = flags.find(1, start + 1)

    def __bool__(self) -> bool:
        return 1 in self._flags
