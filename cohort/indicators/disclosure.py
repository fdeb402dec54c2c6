"""Disclosure control for published indicators (domain.md §7, *published* mode).

Pure: it receives exact counts computed by the database and the relations between them,
and returns what may be shown. The steps, in order:

1. **Primary.** A count in 1..k-1 is hidden ("primary"); 0 is an honest zero and is shown.
   A breakdown part ("dont RSA") whose complement, total - part, is in 1..k-1 is hidden
   ("complement"): "20 accompanied, dont RSA 18" would name the 2 others. The complement
   itself is never published, so a breakdown adds no equation, only ``part <= total``.
2. **Secondary.** An attacker holds the published cells, the equations of the additive
   groups (total = sum of parts; groups may share cells, e.g. a per-action and a
   per-département table with a common margin), ``part <= total`` for breakdowns, and
   knows that counts are whole numbers between 0 and the largest count of the table.
   A hidden cell is *exposed* when that knowledge leaves it a single possible value:
   either the equations alone fix it (exact elimination over the hidden cells, which
   catches a group with one hidden member as well as combinations of groups), or the
   bounds do (e.g. two hidden cells summing to 0). While some hidden cell is exposed, one
   more published cell is hidden ("secondary"): among the published cells of the groups
   around the exposed cell (nearest groups first, non-zero before zero, then the smallest
   value, ties by key), the first that alone makes it unexposed, else the first of them.
   The hidden set only grows, so this reaches a fixpoint. The bounds check is a search for
   another whole-number table that fits what is shown and differs at the cell (ranges
   narrowed through the relations, values near the true ones first); a table found is a
   proof, and a search that runs out of budget counts the cell as exposed (over-suppress
   rather than leak). A cell whose related cells are all hidden already is left as is:
   there is nothing more to hide.
3. **Rates** inherit suppression from their numerator and denominator ("inherited"), and
   are hidden when the numerator's complement is in 1..k-1 ("complement"); otherwise they
   are computed from the *published* (rounded) counts: a share from exact counts would
   give the exact numerator back (20 shown, 0.95 → 19 of 20).
4. **Rounding** of the published counts to the nearest multiple of the base (ties up), so
   that two queries a day apart cannot be subtracted to reveal one person. Decisions are
   taken on exact values first, so rounding never changes what is hidden.

Hidden cells leave no trace of their value in the result: ``None`` and a reason word.
A breakdown whose part is published with part == total (complement 0) is fine; its total
can then be hidden only as secondary, where the part is only a lower bound for it.

Not modelled: what the reason words and the rules themselves tell. A "primary" cell is
known to lie in 1..k-1, so with k = 5 two primary cells shown to sum to 8 are both 4;
outputs for evaluators are safer with one neutral marker than with the reason words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from cohort.errors import Rejected

DEFAULT_K = 5
MIN_K = 3
DEFAULT_ROUNDING_BASE = 5

PRIMARY = "primary"
COMPLEMENT = "complement"
SECONDARY = "secondary"
INHERITED = "inherited"

# Branches one bounds check may open before it counts the cell as exposed, in all and for
# each value of the cell it tries (so that one hard value does not starve the next).
SEARCH_BUDGET = 20_000
VALUE_BUDGET = 2_000


@dataclass(frozen=True)
class Count:
    key: str  # unique id of a published cell, e.g. "62-A2|accompanied|total"
    value: int  # exact count (>= 0), computed by the database


@dataclass(frozen=True)
class Breakdown:
    """A sub-count ("dont RSA") of a total; its complement (total - part) is implicit."""

    part: str
    total: str


@dataclass(frozen=True)
class Additive:
    """total == sum(parts) exactly (exclusive reasons, people in one action only, ...)."""

    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Rate:
    """A share numerator / denominator of two counts."""

    key: str
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Published:
    values: dict[str, int | None]  # key -> rounded count, None when hidden
    rates: dict[str, float | None]  # key -> share of published counts, None when hidden/undefined
    reasons: dict[str, str]  # key -> "primary" | "complement" | "secondary" | "inherited"


class PopulationTooSmall(Rejected):
    """A query whose population, or what is left outside it, is too small to show."""

    def __init__(self, k: int):
        super().__init__(
            "population",
            f"the population or its complement is below the disclosure threshold of {k}",
            code="population_too_small",
        )


def check_k(k: int) -> None:
    """Refuse thresholds below 3: with k = 2 a hidden 1 is all that is ever protected."""
    if isinstance(k, bool) or not isinstance(k, int) or k < MIN_K:
        raise ValueError(f"k must be an integer >= {MIN_K}")


def check_rounding(rounding_base: int, k: int) -> None:
    """Refuse a base that could show a count >= k as a value in 1..k-1.

    A base <= k is necessary but not enough: with k = 5 and base 4, 5 would be shown as 4.
    Rounding is monotone, so it suffices that k itself rounds to at least k.
    """
    if isinstance(rounding_base, bool) or not isinstance(rounding_base, int):
        raise ValueError("rounding_base must be an integer")
    if not 1 <= rounding_base <= k:
        raise ValueError("rounding_base must be between 1 and k")
    if round_count(k, rounding_base) < k:
        raise ValueError("rounding_base would show counts of at least k below k")


def round_count(value: int, base: int) -> int:
    """Nearest multiple of ``base``, ties up: the same exact value always gives the same output."""
    return (2 * value + base) // (2 * base) * base


def check_population(total: int, part: int | None = None, *, k: int) -> None:
    """Refuse a query whose population (``part`` of ``total``, or ``total``) or complement is small.

    An empty population is not refused: it names nobody.
    """
    check_k(k)
    if total < 0 or (part is not None and not 0 <= part <= total):
        raise ValueError("population counts must satisfy 0 <= part <= total")
    populations = [total] if part is None else [part, total - part]
    if any(1 <= n < k for n in populations):
        raise PopulationTooSmall(k)


def protect(
    counts: Sequence[Count],
    *,
    breakdowns: Sequence[Breakdown] = (),
    additive: Sequence[Additive] = (),
    rates: Sequence[Rate] = (),
    k: int = DEFAULT_K,
    rounding_base: int = DEFAULT_ROUNDING_BASE,
) -> Published:
    """Decide what of ``counts`` may be published, then round what is shown."""
    check_k(k)
    check_rounding(rounding_base, k)
    exact = _index(counts)
    _validate(exact, breakdowns, additive, rates)

    reasons = _primary(exact, breakdowns, k)
    _Audit(exact, breakdowns, additive).suppress(reasons)

    values = {
        key: None if key in reasons else round_count(value, rounding_base)
        for key, value in exact.items()
    }
    rate_values, rate_reasons = _rates(exact, values, rates, reasons, k)
    return Published(values=values, rates=rate_values, reasons={**reasons, **rate_reasons})


def _index(counts: Sequence[Count]) -> dict[str, int]:
    exact: dict[str, int] = {}
    for count in counts:
        if count.key in exact:
            raise ValueError(f"duplicate count key {count.key!r}")
        value = count.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"count {count.key!r} must be a non-negative integer")
        exact[count.key] = value
    return exact


def _validate(
    exact: dict[str, int],
    breakdowns: Sequence[Breakdown],
    additive: Sequence[Additive],
    rates: Sequence[Rate],
) -> None:
    """Refuse relations that do not hold: the audit would reason on false equations."""

    def known(key: str) -> None:
        if key not in exact:
            raise ValueError(f"unknown count key {key!r}")

    for b in breakdowns:
        known(b.part)
        known(b.total)
        if b.part == b.total or exact[b.part] > exact[b.total]:
            raise ValueError(f"breakdown {b.part!r} is not a part of {b.total!r}")
    for group in additive:
        known(group.total)
        for part in group.parts:
            known(part)
        if not group.parts or len(set(group.parts)) != len(group.parts):
            raise ValueError(f"additive group {group.total!r} needs distinct parts")
        if group.total in group.parts:
            raise ValueError(f"additive group {group.total!r} contains its own total")
        if exact[group.total] != sum(exact[p] for p in group.parts):
            raise ValueError(f"additive group {group.total!r} does not add up")
    for rate in rates:
        known(rate.numerator)
        known(rate.denominator)
        if rate.key in exact:
            raise ValueError(f"rate key {rate.key!r} is also a count key")
    if len({rate.key for rate in rates}) != len(rates):
        raise ValueError("duplicate rate key")


def _primary(exact: dict[str, int], breakdowns: Sequence[Breakdown], k: int) -> dict[str, str]:
    reasons = {key: PRIMARY for key, value in exact.items() if 1 <= value < k}
    for b in breakdowns:
        if b.part not in reasons and 1 <= exact[b.total] - exact[b.part] < k:
            reasons[b.part] = COMPLEMENT
    return reasons


def _rates(
    exact: dict[str, int], shown: dict[str, int | None], rates: Sequence[Rate],
    reasons: dict[str, str], k: int,
) -> tuple[dict[str, float | None], dict[str, str]]:
    values: dict[str, float | None] = {}
    why: dict[str, str] = {}
    for rate in rates:
        values[rate.key] = None
        if rate.numerator in reasons or rate.denominator in reasons:
            why[rate.key] = INHERITED
        elif 1 <= exact[rate.denominator] - exact[rate.numerator] < k:
            why[rate.key] = COMPLEMENT
        else:
            numerator, denominator = shown[rate.numerator], shown[rate.denominator]
            if numerator is not None and denominator:
                values[rate.key] = numerator / denominator
    return values, why


class _BudgetExhausted(Exception):
    pass


class _Audit:
    """What an attacker can recompute from the published cells, and what to hide next."""

    def __init__(
        self, exact: dict[str, int], breakdowns: Sequence[Breakdown], additive: Sequence[Additive]
    ):
        self.exact = exact
        self.bound = max(exact.values(), default=0)
        # Each equation: sum of coefficient * cell == 0.
        self.equations: list[tuple[tuple[str, int], ...]] = [
            ((g.total, 1), *((p, -1) for p in g.parts)) for g in additive
        ]
        self.inequalities = [(b.part, b.total) for b in breakdowns]  # part <= total
        # Every relation as a set of cells, to walk from a cell to its neighbours.
        self.relations: dict[str, list[tuple[str, ...]]] = {key: [] for key in exact}
        for relation in [tuple(c for c, _ in eq) for eq in self.equations] + self.inequalities:
            for cell in relation:
                self.relations[cell].append(relation)
        self.equations_of: dict[str, list[int]] = {key: [] for key in exact}
        for i, eq in enumerate(self.equations):
            for cell, _ in eq:
                self.equations_of[cell].append(i)
        self.inequalities_of: dict[str, list[int]] = {key: [] for key in exact}
        for i, pair in enumerate(self.inequalities):
            for cell in pair:
                self.inequalities_of[cell].append(i)
        self._fixed: dict[frozenset[str], set[str]] = {}  # component -> cells it fixes

    def suppress(self, reasons: dict[str, str]) -> None:
        """Add secondary suppressions to ``reasons`` until no hidden cell is exposed."""
        hidden = set(reasons)
        safe: set[str] = set()  # unexposed cells stay unexposed as the hidden set grows
        hopeless: set[str] = set()  # exposed, with nothing left around them to hide
        while (target := self._first_exposed(hidden, safe, hopeless)) is not None:
            choice = self._choose(target, hidden)
            if choice is None:
                hopeless.add(target)
            else:
                hidden.add(choice)
                reasons[choice] = SECONDARY

    def _first_exposed(self, hidden: set[str], safe: set[str], hopeless: set[str]) -> str | None:
        pending = hidden - safe - hopeless
        determined: set[str] = set()
        seen: set[str] = set()
        for cell in sorted(pending):
            if cell not in seen:
                component = self._component(cell, hidden)
                seen.update(component)
                determined |= self._determined(component)
        if determined & pending:
            return min(determined & pending)
        for cell in sorted(pending):
            if self._has_alternative(cell, hidden):
                safe.add(cell)
            else:
                return cell
        return None

    def _exposed(self, cell: str, hidden: set[str]) -> bool:
        component = self._component(cell, hidden)
        return cell in self._determined(component) or not self._has_alternative(cell, hidden)

    def _choose(self, target: str, hidden: set[str]) -> str | None:
        candidates = self._candidates(target, hidden)
        for candidate in candidates:
            if not self._exposed(target, hidden | {candidate}):
                return candidate
        return candidates[0] if candidates else None

    def _candidates(self, target: str, hidden: set[str]) -> list[str]:
        """Published cells around ``target``, walking out through hidden cells, best first."""
        distance: dict[str, int] = {}
        seen = {target}
        frontier = [target]
        layer = 0
        while frontier:
            reached = []
            for cell in frontier:
                for relation in self.relations[cell]:
                    for other in relation:
                        if other in seen:
                            continue
                        seen.add(other)
                        if other in hidden:
                            reached.append(other)
                        else:
                            distance[other] = layer
            frontier = sorted(reached)
            layer += 1
        return sorted(distance, key=lambda c: (self.exact[c] == 0, distance[c], self.exact[c], c))

    def _component(self, target: str, hidden: set[str]) -> list[str]:
        """Hidden cells linked to ``target`` through relations, in breadth-first order."""
        order = [target]
        seen = {target}
        for cell in order:
            linked = {
                other
                for relation in self.relations[cell]
                for other in relation
                if other in hidden and other not in seen
            }
            seen |= linked
            order.extend(sorted(linked))
        return order

    def _terms(self, component: list[str]) -> list[list[tuple[str, int]]]:
        """The equations touching ``component``, reduced to its cells (the rest is shown)."""
        members = set(component)
        touching = sorted({i for cell in component for i in self.equations_of[cell]})
        return [[(c, coef) for c, coef in self.equations[i] if c in members] for i in touching]

    def _determined(self, component: list[str]) -> set[str]:
        """Cells of ``component`` that the equations alone fix (exact elimination)."""
        key = frozenset(component)
        if key not in self._fixed:
            self._fixed[key] = self._eliminate(component)
        return self._fixed[key]

    def _eliminate(self, component: list[str]) -> set[str]:
        index = {cell: i for i, cell in enumerate(component)}
        rows = []
        for terms in self._terms(component):
            row = [0] * len(component)
            for cell, coef in terms:
                row[index[cell]] += coef
            rows.append(row)
        return {component[i] for i in _fixed_columns(rows, len(component))}

    def _has_alternative(self, target: str, hidden: set[str]) -> bool:
        """Whether some whole-number table consistent with what is shown differs at ``target``.

        Found means safe for good; not found within the budget counts as exposed.
        """
        component = self._component(target, hidden)
        equations = self._terms(component)
        touching = sorted({i for cell in component for i in self.inequalities_of[cell]})
        inequalities = [self.inequalities[i] for i in touching]
        search = _Search(self.exact, self.bound, component, equations, inequalities)
        try:
            return search.alternative()
        except _BudgetExhausted:
            return False


def _fixed_columns(rows: list[list[int]], width: int) -> set[int]:
    """Columns fixed by the homogeneous system ``rows``: Gauss-Jordan over the integers."""
    pivots: list[tuple[int, int]] = []  # (row index, column)
    top = 0
    for col in range(width):
        pick = next((r for r in range(top, len(rows)) if rows[r][col]), None)
        if pick is None:
            continue
        rows[top], rows[pick] = rows[pick], rows[top]
        pivot = rows[top]
        for r, row in enumerate(rows):
            if r != top and row[col]:
                combined = [pivot[col] * x - row[col] * y for x, y in zip(row, pivot, strict=True)]
                divisor = math.gcd(*combined)
                rows[r] = [x // divisor for x in combined] if divisor > 1 else combined
        pivots.append((top, col))
        top += 1
    free = [col for col in range(width) if col not in {c for _, c in pivots}]
    return {col for r, col in pivots if not any(rows[r][f] for f in free)}


class _Search:
    """Depth-first search for another consistent table, with bounds propagation.

    Every hidden cell has a range, first 0..bound; each equation narrows the range of each
    of its cells to what the others' ranges allow, and so does each ``part <= total``,
    until nothing moves. A cell whose range is empty ends the branch; a range of one value
    fixes the cell. The target is tried at values other than its true one, nearest first;
    the other cells are branched on narrowest range first, nearest the true value first.
    """

    def __init__(
        self,
        exact: dict[str, int],
        bound: int,
        order: list[str],
        equations: list[list[tuple[str, int]]],
        inequalities: list[tuple[str, str]],
    ):
        self.exact = exact
        self.bound = bound
        self.order = order
        self.position = {cell: i for i, cell in enumerate(order)}
        # The true table satisfies every equation: that gives each its constant.
        self.equations = [(terms, sum(c * exact[cell] for cell, c in terms)) for terms in equations]
        self.inequalities = inequalities
        # Relations are numbered: equations first, then inequalities.
        self.relations_of: dict[str, list[int]] = {cell: [] for cell in order}
        for i, terms in enumerate(equations):
            for cell, _ in terms:
                self.relations_of[cell].append(i)
        for i, pair in enumerate(inequalities, start=len(equations)):
            for cell in pair:
                if cell in self.relations_of:
                    self.relations_of[cell].append(i)
        self.spent = 0
        self.limit = 0

    def alternative(self) -> bool:
        target = self.order[0]
        start = {cell: (0, self.bound) for cell in self.order}
        ranges = self._narrow(start, range(len(self.equations) + len(self.inequalities)))
        if ranges is None:  # cannot happen: the true table fits
            return False
        true = self.exact[target]
        low, high = ranges[target]
        for value in _nearest(true, low, high):
            if value == true:
                continue
            self.limit = min(self.spent + VALUE_BUDGET, SEARCH_BUDGET)
            try:
                if self._branch(ranges, target, value):
                    return True
            except _BudgetExhausted:
                if self.spent >= SEARCH_BUDGET:
                    raise
        return False

    def _branch(self, ranges: dict[str, tuple[int, int]], cell: str, value: int) -> bool:
        self.spent += 1
        if self.spent > self.limit:
            raise _BudgetExhausted
        narrowed = self._narrow({**ranges, cell: (value, value)}, self.relations_of[cell])
        if narrowed is None:
            return False
        open_cells = [c for c in self.order if narrowed[c][0] < narrowed[c][1]]
        if not open_cells:
            return True
        pick = min(open_cells, key=lambda c: (narrowed[c][1] - narrowed[c][0], self.position[c]))
        low, high = narrowed[pick]
        return any(
            self._branch(narrowed, pick, value) for value in _nearest(self.exact[pick], low, high)
        )

    def _narrow(
        self, ranges: dict[str, tuple[int, int]], touched: Iterable[int]
    ) -> dict[str, tuple[int, int]] | None:
        """Shrink ranges to what the relations allow; None when one becomes empty.

        Only relations of cells whose range changed are looked at again.
        """
        queue = list(dict.fromkeys(touched))
        queued = set(queue)

        def narrow(cell: str, lo: int, hi: int) -> bool:
            if lo > hi:
                return False
            if (lo, hi) != ranges[cell]:
                ranges[cell] = (lo, hi)
                for i in self.relations_of[cell]:
                    if i not in queued:
                        queued.add(i)
                        queue.append(i)
            return True

        while queue:
            i = queue.pop()
            queued.discard(i)
            if i < len(self.equations):
                terms, constant = self.equations[i]
                low = sum(c * ranges[cell][0 if c > 0 else 1] for cell, c in terms)
                high = sum(c * ranges[cell][1 if c > 0 else 0] for cell, c in terms)
                for cell, c in terms:
                    lo, hi = ranges[cell]
                    # c * cell = constant - (the others), whose sum lies in these bounds
                    others_low = low - c * (lo if c > 0 else hi)
                    others_high = high - c * (hi if c > 0 else lo)
                    a, b = constant - others_high, constant - others_low
                    new = (max(lo, a), min(hi, b)) if c > 0 else (max(lo, -b), min(hi, -a))
                    if not narrow(cell, *new):
                        return None
            else:
                part, total = self.inequalities[i - len(self.equations)]
                p_lo, p_hi = ranges.get(part, (self.exact[part], self.exact[part]))
                t_lo, t_hi = ranges.get(total, (self.exact[total], self.exact[total]))
                if p_lo > t_hi:
                    return None
                if part in ranges and not narrow(part, p_lo, min(p_hi, t_hi)):
                    return None
                if total in ranges and not narrow(total, max(t_lo, p_lo), t_hi):
                    return None
        return ranges


def _nearest(center: int, low: int, high: int) -> Iterator[int]:
    """low..high, nearest to ``center`` first (below before above)."""
    center = min(max(center, low), high)
    yield center
    for step in range(1, high - low + 1):
        below, above = center - step, center + step
        if below < low and above > high:
            return
        if below >= low:
            yield below
        if above <= high:
            yield above
