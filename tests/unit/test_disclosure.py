"""Disclosure control (domain.md §7): worked examples of what published mode may show."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from cohort.errors import Rejected
from cohort.indicators import disclosure
from cohort.indicators.disclosure import (
    Additive,
    Breakdown,
    Count,
    PopulationTooSmall,
    Published,
    Rate,
    check_population,
    protect,
    round_count,
)


def counts(**values: int) -> list[Count]:
    return [Count(key, value) for key, value in values.items()]


def hidden(published: Published) -> dict[str, str]:
    return {key: published.reasons[key] for key, v in published.values.items() if v is None}


# ---- primary and complement -------------------------------------------------------------

def test_dont_rsa_whose_complement_names_the_others_is_hidden() -> None:
    # "20 accompanied, dont RSA 18" already names the 2 others.
    out = protect(counts(accompanied=20, rsa=18), breakdowns=[Breakdown("rsa", "accompanied")])
    assert out.values == {"accompanied": 20, "rsa": None}
    assert out.reasons == {"rsa": "complement"}


@pytest.mark.parametrize(
    ("total", "part", "expected_values", "expected_reasons"),
    [
        pytest.param(20, 15, {"t": 20, "p": 15}, {}, id="complement 5 is enough"),
        pytest.param(20, 20, {"t": 20, "p": 20}, {}, id="complement 0 names nobody"),
        pytest.param(20, 0, {"t": 20, "p": 0}, {}, id="honest zero part"),
        pytest.param(20, 3, {"t": 20, "p": None}, {"p": "primary"}, id="small part"),
        pytest.param(3, 3, {"t": None, "p": None}, {"t": "primary", "p": "primary"},
                     id="small total, part equal to it"),
        pytest.param(3, 0, {"t": None, "p": None}, {"t": "primary", "p": "complement"},
                     id="zero part of a small total still says all 3 are not RSA"),
        pytest.param(0, 0, {"t": 0, "p": 0}, {}, id="empty"),
    ],
)
def test_breakdown_cases(
    total: int, part: int, expected_values: dict[str, int | None], expected_reasons: dict[str, str]
) -> None:
    out = protect(counts(t=total, p=part), breakdowns=[Breakdown("p", "t")], rounding_base=1)
    assert out.values == expected_values
    assert out.reasons == expected_reasons


def test_small_exits_by_reason_need_no_secondary_when_two_are_hidden() -> None:
    # Target of 15 households; exits by reason 1, 2 and 12: the two hidden cells can only be
    # told apart as "3 between them", which does not fix either.
    out = protect(
        counts(exits=15, r1=1, r2=2, r3=12),
        additive=[Additive("exits", ("r1", "r2", "r3"))],
    )
    assert hidden(out) == {"r1": "primary", "r2": "primary"}
    assert out.values["exits"] == 15
    assert out.values["r3"] == 10  # rounded to base 5


def test_one_hidden_part_forces_a_secondary_suppression() -> None:
    # 30 = 3 + 7 + 20: showing 30, 7 and 20 gives back the 3. The smallest other part goes.
    out = protect(counts(total=30, a=3, b=7, c=20), additive=[Additive("total", ("a", "b", "c"))])
    assert hidden(out) == {"a": "primary", "b": "secondary"}
    assert out.values == {"total": 30, "a": None, "b": None, "c": 20}


def test_secondary_ties_are_broken_by_key() -> None:
    out = protect(counts(t=23, a=3, c=10, b=10), additive=[Additive("t", ("a", "b", "c"))])
    assert hidden(out) == {"a": "primary", "b": "secondary"}


def test_a_published_zero_is_not_hidden_to_protect_a_neighbour() -> None:
    # Hiding the 0 would leave the 3 as the only unknown of "13 = ? + ? + 10".
    out = protect(counts(t=13, a=3, z=0, b=10), additive=[Additive("t", ("a", "z", "b"))])
    assert hidden(out) == {"a": "primary", "b": "secondary"}


def test_two_small_cells_hide_each_other() -> None:
    # 7 = 3 + 4: "7 between them" leaves each anywhere in 0..7.
    out = protect(counts(t=7, a=3, b=4), additive=[Additive("t", ("a", "b"))])
    assert hidden(out) == {"a": "primary", "b": "primary"}
    assert out.values["t"] == 5


def test_the_total_goes_when_another_table_gives_the_smallest_part_back() -> None:
    # t = a + b with a small; b is also shown as b1 + b2, so hiding b alone would not do.
    out = protect(
        counts(t=13, a=3, b=10, b1=5, b2=5),
        additive=[Additive("t", ("a", "b")), Additive("b", ("b1", "b2"))],
    )
    assert hidden(out) == {"a": "primary", "t": "secondary"}


def test_two_hidden_cells_fixed_by_non_negativity_are_protected() -> None:
    # RSA among 3 (D1) and among 4 (D2) accompanied is 0; both zeros are hidden by the
    # complement rule. The département-wide RSA count 10 equals the one of D3, so the two
    # hidden cells would sum to 0: no elimination fixes either, but non-negativity does.
    out = protect(
        counts(**{"acc|D1": 3, "acc|D2": 4, "rsa|D1": 0, "rsa|D2": 0, "rsa|D3": 10, "rsa|all": 10}),
        breakdowns=[Breakdown("rsa|D1", "acc|D1"), Breakdown("rsa|D2", "acc|D2")],
        additive=[Additive("rsa|all", ("rsa|D1", "rsa|D2", "rsa|D3"))],
    )
    assert hidden(out) == {
        "acc|D1": "primary",
        "acc|D2": "primary",
        "rsa|D1": "complement",
        "rsa|D2": "complement",
        "rsa|D3": "secondary",  # ties with rsa|all at 10; "D" sorts before "a"
    }


def test_a_hidden_total_bounded_by_its_published_part_stays_open() -> None:
    # All 10 accompanied in D1 are RSA (complement 0). D2 has 2 people, so D1's total is the
    # secondary cell; the published part 10 only says D1 >= 10, which leaves 10, 11 or 12.
    out = protect(
        counts(all=12, d1=10, d2=2, rsa_d1=10),
        breakdowns=[Breakdown("rsa_d1", "d1")],
        additive=[Additive("all", ("d1", "d2"))],
        rounding_base=1,
    )
    assert hidden(out) == {"d2": "primary", "d1": "secondary"}
    assert out.values["rsa_d1"] == 10


# ---- tables sharing a margin -------------------------------------------------------------

def per_action_and_departement() -> tuple[list[Count], list[Additive]]:
    """Accompanied per action x département, with both margins and the grand total."""
    cells = counts(
        **{"A1|D1": 3, "A1|D2": 10, "A2|D1": 8, "A2|D2": 12,
           "A1": 13, "A2": 20, "D1": 11, "D2": 22, "all": 33}
    )
    groups = [
        Additive("A1", ("A1|D1", "A1|D2")),
        Additive("A2", ("A2|D1", "A2|D2")),
        Additive("D1", ("A1|D1", "A2|D1")),
        Additive("D2", ("A1|D2", "A2|D2")),
        Additive("all", ("A1", "A2")),
        Additive("all", ("D1", "D2")),
    ]
    return cells, groups


def test_per_action_and_per_departement_tables_sharing_a_margin() -> None:
    # Hiding one cell of each row is not enough: the columns give them back. The four inner
    # cells form a cycle (+1 -1 / -1 +1) that the margins cannot resolve.
    cells, groups = per_action_and_departement()
    out = protect(cells, additive=groups, rounding_base=1)
    assert hidden(out) == {
        "A1|D1": "primary",
        "A1|D2": "secondary",
        "A2|D1": "secondary",
        "A2|D2": "secondary",
    }
    assert {key: out.values[key] for key in ("A1", "A2", "D1", "D2", "all")} == {
        "A1": 13, "A2": 20, "D1": 11, "D2": 22, "all": 33
    }


def test_a_second_table_on_the_same_total_keeps_the_total_shown() -> None:
    # Table 1: département total = action A + action B; table 2: the same total by age band.
    # A is small. Table 2 does not contain A or B, so hiding B is enough.
    out = protect(
        counts(total=40, a=4, b=36, young=15, old=25),
        additive=[Additive("total", ("a", "b")), Additive("total", ("young", "old"))],
        rounding_base=1,
    )
    assert hidden(out) == {"a": "primary", "b": "secondary"}
    # Had the total gone instead, table 2 would have given it back: it must stay shown.
    assert out.values["total"] == 40


def test_a_search_out_of_budget_hides_more_never_less(monkeypatch: pytest.MonkeyPatch) -> None:
    cells, groups = per_action_and_departement()
    normal = hidden(protect(cells, additive=groups))
    monkeypatch.setattr(disclosure, "SEARCH_BUDGET", 0)
    monkeypatch.setattr(disclosure, "VALUE_BUDGET", 0)
    starved = protect(cells, additive=groups)
    assert set(hidden(starved)) > set(normal)
    assert all(v is None or v >= 5 or v == 0 for v in starved.values.values())


def test_a_table_hidden_entirely_ends() -> None:
    # Every cell is small: all are hidden, and there is nothing more to look for.
    out = protect(counts(t=2, a=1, b=1), additive=[Additive("t", ("a", "b"))])
    assert out.values == {"t": None, "a": None, "b": None}


# ---- rates ---------------------------------------------------------------------------------

def test_rates_inherit_from_numerator_complement_and_denominator() -> None:
    out = protect(
        counts(due=20, done=12, small=3, big=30, late=28, zero=0, none_done=0),
        breakdowns=[Breakdown("done", "due")],
        rates=[
            Rate("share_done", "done", "due"),
            Rate("share_small", "small", "due"),
            Rate("share_of_small", "zero", "small"),
            Rate("share_late", "late", "big"),
            Rate("undefined", "none_done", "zero"),
        ],
    )
    assert out.rates == {
        "share_done": 0.5,  # 10 / 20 as shown: the exact 0.6 would give 12 back
        "share_small": None,  # numerator hidden
        "share_of_small": None,  # denominator hidden
        "share_late": None,  # 2 of the 30 are not late (declare the Breakdown to hide 28 too)
        "undefined": None,  # nothing to divide by: not a suppression
    }
    assert out.values["done"] == 10
    assert out.reasons["share_small"] == "inherited"
    assert out.reasons["share_of_small"] == "inherited"
    assert out.reasons["share_late"] == "complement"
    assert "undefined" not in out.reasons


def test_a_rate_of_a_secondary_cell_is_inherited() -> None:
    out = protect(
        counts(total=30, a=3, b=7, c=20),
        additive=[Additive("total", ("a", "b", "c"))],
        rates=[Rate("share_b", "b", "total"), Rate("share_c", "c", "total")],
    )
    assert out.rates == {"share_b": None, "share_c": pytest.approx(20 / 30)}
    assert out.reasons["share_b"] == "inherited"


# ---- rounding ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [
        (0, 5, 0), (5, 5, 5), (6, 5, 5), (7, 5, 5), (8, 5, 10), (12, 5, 10), (13, 5, 15),
        (15, 5, 15), (17, 5, 15), (18, 5, 20), (180, 5, 180), (182, 5, 180), (183, 5, 185),
        (2, 4, 4), (6, 4, 8), (5, 4, 4),  # even base: exact ties round up
        (7, 1, 7), (0, 1, 0),
        (3, 3, 3), (4, 3, 3), (5, 3, 6),
    ],
)
def test_rounding_table(value: int, base: int, expected: int) -> None:
    assert round_count(value, base) == expected


def test_rounding_is_applied_after_decisions_taken_on_exact_values() -> None:
    out = protect(counts(t=27, p=22), breakdowns=[Breakdown("p", "t")])
    # Rounded, 25 and 20 would suggest a complement of 5; exactly it is 5 too, so p shows.
    assert out.values == {"t": 25, "p": 20}
    out = protect(counts(t=26, p=22), breakdowns=[Breakdown("p", "t")])
    # Rounded, both are 25 and 20 again, but the exact complement 4 is small: p is hidden.
    assert out.values == {"t": 25, "p": None}


@pytest.mark.parametrize(
    ("k", "base"),
    [
        pytest.param(5, 6, id="base above k"),
        pytest.param(5, 4, id="5 would show as 4"),
        pytest.param(6, 5, id="6 would show as 5"),
        pytest.param(5, 0, id="zero base"),
    ],
)
def test_a_rounding_base_that_could_show_small_counts_is_refused(k: int, base: int) -> None:
    with pytest.raises(ValueError, match="rounding_base"):
        protect(counts(a=10), k=k, rounding_base=base)


# ---- threshold -----------------------------------------------------------------------------

def test_k_3_is_allowed() -> None:
    out = protect(counts(a=2, b=3, t=5), additive=[Additive("t", ("a", "b"))], k=3, rounding_base=3)
    assert hidden(out) == {"a": "primary", "b": "secondary"}
    assert out.values["t"] == 6


def test_k_larger_than_default() -> None:
    out = protect(counts(a=9, b=10), k=10, rounding_base=5)
    assert out.values == {"a": None, "b": 10}


@pytest.mark.parametrize("k", [2, 1, 0, -5])
def test_k_below_3_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="k must be"):
        protect(counts(a=10), k=k, rounding_base=1)
    with pytest.raises(ValueError, match="k must be"):
        check_population(10, k=k)


# ---- what reaches serialisation ----------------------------------------------------------

def test_no_raw_value_of_a_hidden_cell_is_left_in_the_result() -> None:
    out = protect(
        counts(accompanied=40, rsa=37, young=13),
        breakdowns=[Breakdown("rsa", "accompanied")],
        rates=[Rate("share_rsa", "rsa", "accompanied")],
    )
    text = json.dumps(asdict(out))
    assert "37" not in text
    assert set(out.reasons.values()) <= {"primary", "complement", "secondary", "inherited"}


# ---- invalid input ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cells", "kwargs", "message"),
    [
        pytest.param(counts(a=1), {"breakdowns": [Breakdown("a", "x")]}, "unknown",
                     id="unknown key"),
        pytest.param([Count("a", 1), Count("a", 2)], {}, "duplicate", id="duplicate key"),
        pytest.param(counts(a=-1), {}, "non-negative", id="negative"),
        pytest.param(counts(t=10, a=4, b=5), {"additive": [Additive("t", ("a", "b"))]},
                     "add up", id="group that does not add up"),
        pytest.param(counts(t=10, a=11), {"breakdowns": [Breakdown("a", "t")]}, "not a part",
                     id="part above total"),
        pytest.param(counts(t=10, a=10), {"rates": [Rate("a", "a", "t")]}, "also a count",
                     id="rate key clash"),
    ],
)
def test_relations_that_do_not_hold_are_refused(
    cells: list[Count], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        protect(cells, **kwargs)  # type: ignore[arg-type]


# ---- population check ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("total", "part"),
    [(1, None), (4, None), (20, 2), (20, 18), (20, 1), (5, 4)],
)
def test_small_population_or_complement_is_refused(total: int, part: int | None) -> None:
    with pytest.raises(PopulationTooSmall) as caught:
        check_population(total, part, k=5)
    err = caught.value
    assert isinstance(err, Rejected)
    assert err.field == "population"
    assert err.errors == {"population": [err.reason]}
    assert err.status == 422
    # The message names the threshold, never the counts.
    assert not any(str(n) in err.message for n in (total, part, total - (part or 0)) if n != 5)


@pytest.mark.parametrize(
    ("total", "part", "k"),
    [(0, None, 5), (5, None, 5), (20, 0, 5), (20, 20, 5), (20, 15, 5), (3, None, 3), (6, 3, 3)],
)
def test_large_enough_population_passes(total: int, part: int | None, k: int) -> None:
    check_population(total, part, k=k)
