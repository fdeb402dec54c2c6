"""Disclosure control on random small tables: nothing small shows, nothing hidden comes back.

The attacker of the brute force holds the exactly published cells (``rounding_base=1``),
every additive equation, ``part <= total`` for every breakdown, and knows that counts are
whole numbers between 0 and the largest count of the table. A hidden cell is safe when
at least two values of it fit all of that, or when every cell related to it is hidden
already (knowing the largest count can then still pin it, but there is nothing left to hide).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cohort.indicators.disclosure import (
    Additive,
    Breakdown,
    Count,
    Published,
    protect,
    round_count,
)

REASONS = {"primary", "complement", "secondary", "inherited"}
BASES = {3: [1, 2, 3], 4: [1, 2, 4], 5: [1, 2, 5], 7: [1, 2, 7]}  # never show >= k below k
SETTINGS = settings(max_examples=200, deadline=None)


@dataclass
class Table:
    values: dict[str, int]
    additive: list[Additive]
    breakdowns: list[Breakdown]
    k: int
    base: int

    @property
    def counts(self) -> list[Count]:
        return [Count(key, value) for key, value in self.values.items()]

    def protect(self, base: int | None = None, *, reverse: bool = False) -> Published:
        def order(items: list) -> list:
            return items[::-1] if reverse else items

        return protect(
            order(self.counts),
            additive=order(self.additive),
            breakdowns=order(self.breakdowns),
            k=self.k,
            rounding_base=self.base if base is None else base,
        )


small_counts = st.one_of(st.integers(0, 6), st.integers(0, 30))


def add_breakdowns(draw: st.DrawFn, table: Table, most: int) -> None:
    """Sub-counts under existing cells, or an existing cell declared part of a larger one."""
    for _ in range(draw(st.integers(0, most))):
        keys = sorted(table.values)
        pairs = [
            (p, t) for p in keys for t in keys
            if p != t and table.values[p] <= table.values[t]
            and Breakdown(p, t) not in table.breakdowns
        ]
        if pairs and draw(st.booleans()):
            part, total = draw(st.sampled_from(pairs))
        else:
            total = draw(st.sampled_from(keys))
            part = f"dont{len(table.breakdowns)}"
            table.values[part] = draw(st.integers(0, table.values[total]))
        table.breakdowns.append(Breakdown(part, total))


@st.composite
def grouped_tables(draw: st.DrawFn) -> Table:
    """A few additive groups of 2-4 parts drawn from a shared pool, totals reusable."""
    k = draw(st.sampled_from(sorted(BASES)))
    table = Table({}, [], [], k, draw(st.sampled_from(BASES[k])))
    for i in range(draw(st.integers(2, 5))):
        table.values[f"c{i}"] = draw(small_counts)
    add_breakdowns(draw, table, 1)
    for g in range(draw(st.integers(1, 3))):
        parts = draw(st.lists(st.sampled_from(sorted(table.values)), min_size=2, max_size=4,
                              unique=True))
        table.values[f"g{g}"] = sum(table.values[p] for p in parts)
        table.additive.append(Additive(f"g{g}", tuple(parts)))
    add_breakdowns(draw, table, 1)
    return table


@st.composite
def grid_tables(draw: st.DrawFn) -> Table:
    """A two-way table (e.g. action x département) with both margins and the grand total."""
    k = draw(st.sampled_from(sorted(BASES)))
    table = Table({}, [], [], k, draw(st.sampled_from(BASES[k])))
    rows, cols = draw(st.integers(2, 3)), draw(st.integers(2, 3))
    for i in range(rows):
        for j in range(cols):
            table.values[f"r{i}c{j}"] = draw(small_counts)
    for i in range(rows):
        parts = tuple(f"r{i}c{j}" for j in range(cols))
        table.values[f"r{i}"] = sum(table.values[p] for p in parts)
        table.additive.append(Additive(f"r{i}", parts))
    for j in range(cols):
        parts = tuple(f"r{i}c{j}" for i in range(rows))
        table.values[f"c{j}"] = sum(table.values[p] for p in parts)
        table.additive.append(Additive(f"c{j}", parts))
    table.values["all"] = sum(table.values[f"r{i}"] for i in range(rows))
    table.additive.append(Additive("all", tuple(f"r{i}" for i in range(rows))))
    table.additive.append(Additive("all", tuple(f"c{j}" for j in range(cols))))
    add_breakdowns(draw, table, 2)
    return table


tables = st.one_of(grouped_tables(), grid_tables())


def hidden_cells(published: Published) -> set[str]:
    return {key for key, value in published.values.items() if value is None}


def nothing_left_to_hide(table: Table, hidden: set[str], cell: str) -> bool:
    """No published cell in any relation reachable from ``cell`` through hidden cells."""
    relations = [(g.total, *g.parts) for g in table.additive]
    relations += [(b.part, b.total) for b in table.breakdowns]
    reached, frontier = {cell}, [cell]
    while frontier:
        current = frontier.pop()
        for relation in relations:
            if current in relation:
                for other in relation:
                    if other not in hidden:
                        return False
                    if other not in reached:
                        reached.add(other)
                        frontier.append(other)
    return True


def nearest(center: int, bound: int) -> Iterator[int]:
    """0..bound, nearest to ``center`` first: only to find a solution sooner."""
    return iter(sorted(range(bound + 1), key=lambda v: (abs(v - center), v)))


def can_differ(table: Table, hidden: set[str], target: str) -> bool:
    """Whether a whole-number table fitting what is shown has another value at ``target``."""
    exact = table.values
    bound = max(exact.values())
    rest = sorted(hidden - {target})

    def settle(assign: dict[str, int]) -> dict[str, int] | None:
        """Fill every equation left with one unknown; None when something does not fit."""
        assign = dict(assign)

        def known(cell: str) -> int | None:
            return assign.get(cell) if cell in hidden else exact[cell]

        changed = True
        while changed:
            changed = False
            for group in table.additive:
                signed = [(group.total, 1)] + [(p, -1) for p in group.parts]
                unknown = [(c, s) for c, s in signed if known(c) is None]
                residual = sum(s * known(c) for c, s in signed if known(c) is not None)
                if not unknown and residual:
                    return None
                if len(unknown) == 1:
                    cell, sign = unknown[0]
                    value = -residual * sign
                    if not 0 <= value <= bound:
                        return None
                    assign[cell] = value
                    changed = True
        for b in table.breakdowns:
            part, total = known(b.part), known(b.total)
            if part is not None and total is not None and part > total:
                return None
        return assign

    def complete(assign: dict[str, int], i: int) -> bool:
        settled = settle(assign)
        if settled is None:
            return False
        while i < len(rest) and rest[i] in settled:
            i += 1
        if i == len(rest):
            return True
        cell = rest[i]
        return any(complete({**settled, cell: v}, i + 1) for v in nearest(exact[cell], bound))

    return any(
        complete({target: v}, 0) for v in nearest(exact[target], bound) if v != exact[target]
    )


@SETTINGS
@given(tables)
def test_nothing_small_is_shown(table: Table) -> None:
    exact = table.values
    unrounded = table.protect(base=1)
    rounded = table.protect()
    for published in (unrounded, rounded):
        hidden = hidden_cells(published)
        assert set(published.reasons) == hidden
        assert set(published.reasons.values()) <= REASONS
        for key, value in published.values.items():
            assert value is None or not 1 <= value < table.k, key
        for b in table.breakdowns:
            if b.part not in hidden and b.total not in hidden:
                assert not 1 <= exact[b.total] - exact[b.part] < table.k, b
        for key, reason in published.reasons.items():
            if reason == "primary":
                assert 1 <= exact[key] < table.k
    # Decisions are taken on exact values: rounding changes how cells look, not which show.
    assert rounded.reasons == unrounded.reasons
    assert rounded.values == {
        key: None if value is None else round_count(value, table.base)
        for key, value in unrounded.values.items()
    }


@SETTINGS
@given(tables)
def test_decisions_do_not_depend_on_input_order(table: Table) -> None:
    assert table.protect(reverse=True) == table.protect()


@SETTINGS
@given(tables)
def test_no_hidden_cell_can_be_recomputed(table: Table) -> None:
    published = table.protect(base=1)
    hidden = hidden_cells(published)
    assume(len(hidden) <= 6)
    for key, value in published.values.items():
        assert value is None or value == table.values[key]
    for cell in sorted(hidden):
        assert can_differ(table, hidden, cell) or nothing_left_to_hide(table, hidden, cell), (
            cell, published.reasons
        )
