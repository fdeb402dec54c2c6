"""The bounded state of large imports (cohort.importer.memory)."""

from __future__ import annotations

from cohort.importer.memory import IdFlags, forget_oldest, refresh


def test_the_least_recently_used_are_forgotten_first_and_the_current_chunk_never() -> None:
    known = {pid: f"state {pid}" for pid in (1, 2, 3, 4, 5)}
    refresh(known, {1, 9})  # 1 was named again; 9 is not known: nothing to move
    assert list(known) == [2, 3, 4, 5, 1]
    assert forget_oldest(known, 3, keep={3}) == [2, 4, 5]
    assert known == {3: "state 3", 1: "state 1"}
    assert forget_oldest(known, 0, keep=()) == []
    assert forget_oldest(known, 5, keep={1, 3}) == []


def test_id_flags_hold_a_set_of_ids_in_increasing_order() -> None:
    flags = IdFlags()
    assert not flags
    for value in (70_000, 3, 0, 3, 1_000_001):
        flags.add(value)
    assert list(flags) == [0, 3, 70_000, 1_000_001]
    assert 3 in flags
    assert 4 not in flags
    assert 2_000_000 not in flags
    assert -1 not in flags
    assert flags


def test_in_lists_take_a_few_lengths_whatever_the_number_of_values() -> None:
    """SQLite caches one prepared statement per IN-list length (cohort.db.padded)."""
    from cohort.db import padded

    lengths = {len(padded(range(n))) for n in range(1, 5001)}
    assert lengths == {1, 8, 64, 512, 2048, 5000}
    assert set(padded([4, 9, 2])) == {4, 9, 2}
    assert padded([]) == []
