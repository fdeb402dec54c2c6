"""Identity normalisation (domain.md §3): the input of the pseudonym."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort.identity.normalise import (
    FIELD_SEPARATOR,
    EmptyName,
    identity_key,
    normalise_name,
    normalise_nir,
)

NORMALISED = re.compile(r"[A-Z0-9]+( [A-Z0-9]+)*")
BIRTH = dt.date(1990, 5, 17)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Éloïse  Dupont-Martin", "ELOISE DUPONT MARTIN"),
        ("ELOISE DUPONT MARTIN", "ELOISE DUPONT MARTIN"),
        ("Lætitia", "LAETITIA"),
        ("LÆTITIA", "LAETITIA"),
        ("Œdipe", "OEDIPE"),
        ("cœur", "COEUR"),
        ("Øystein", "OYSTEIN"),
        ("Søren", "SOREN"),
        ("Łukasz", "LUKASZ"),
        ("Michał", "MICHAL"),
        ("Đorđe", "DORDE"),
        ("Ðóra", "DORA"),
        ("ðóra", "DORA"),
        ("Strauß", "STRAUSS"),
        ("STRAUẞ", "STRAUSS"),
        # precomposed forms: the letter NFKD keeps whole appears only once the accent is split
        ("Ǽlfric", "AELFRIC"),
        ("ǿ", "O"),
        ("Çağlar Müller", "CAGLAR MULLER"),
        ("D'Artagnan", "D ARTAGNAN"),
        ("O’Neil", "O NEIL"),
        ("Jean-\tPierre", "JEAN PIERRE"),
        ("Anne\u00a0Marie", "ANNE MARIE"),
        ("  \t Anne  --  Marie \n ", "ANNE MARIE"),
        ("Louis XIV 2", "LOUIS XIV 2"),
        ("ﬁlippo", "FILIPPO"),  # compatibility ligature: NFKD splits it
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Éloïse  Dupont-Martin", "ELOISE DUPONT MARTIN"),
        ("Lætitia", "Laetitia"),
        ("lætitia", "LAETITIA"),
        ("E\u0301loi\u0308se", "Éloïse"),  # decomposed input ≡ precomposed input
    ],
)
def test_spellings_of_one_name_are_equivalent(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)
    assert identity_key(a, "Jean", BIRTH) == identity_key(b, "Jean", BIRTH)


@pytest.mark.parametrize("raw", ["", "   ", "\t\u00a0", "-'-", "…", "😀🙂", "— · —", "\x1f"])
def test_name_that_normalises_to_nothing_is_refused(raw: str) -> None:
    with pytest.raises(EmptyName):
        normalise_name(raw)
    with pytest.raises(EmptyName):
        identity_key("Martin", raw, BIRTH)


def test_field_separator_keeps_last_and_first_names_apart() -> None:
    a = identity_key("PIERRE MARTIN", "JEAN", BIRTH)
    b = identity_key("MARTIN", "JEAN PIERRE", BIRTH)
    assert a != b
    assert a == f"PIERRE MARTIN{FIELD_SEPARATOR}JEAN{FIELD_SEPARATOR}1990-05-17"


def test_birth_date_is_part_of_the_identity_in_iso_form() -> None:
    assert identity_key("Martin", "Jean", dt.date(2001, 2, 3)).endswith("\x1f2001-02-03")
    assert identity_key("Martin", "Jean", dt.date(2001, 2, 3)) != identity_key(
        "Martin", "Jean", dt.date(2001, 3, 2)
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1 85 05 78 006 084 36", "185057800608436"),
        ("1.85.05.78.006.084-36", "185057800608436"),
        ("2 90 12 2a 123 456 78", "290122A12345678"),
        ("2\u00a090\t12 2B 123 456 78", "290122B12345678"),
        ("185057800608436", "185057800608436"),
    ],
)
def test_normalise_nir(raw: str, expected: str) -> None:
    assert normalise_nir(raw) == expected


# ---- properties -------------------------------------------------------------------------

# Any Unicode text, biased towards the letters and separators the rules single out.
names = st.text(
    alphabet=st.one_of(
        st.sampled_from("ÆæŒœØøŁłĐđÐðßẞǼǽǾǿÉéïç'’-\t\u00a0\x1f aZ9"),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)


def _normalised_or_none(value: str) -> str | None:
    try:
        return normalise_name(value)
    except EmptyName:
        return None


@given(names)
def test_normalisation_is_idempotent(value: str) -> None:
    once = _normalised_or_none(value)
    if once is not None:
        assert normalise_name(once) == once


@given(names)
def test_output_is_upper_ascii_alnum_single_spaced_and_trimmed(value: str) -> None:
    out = _normalised_or_none(value)
    if out is not None:
        assert NORMALISED.fullmatch(out), repr(out)
        assert FIELD_SEPARATOR not in out


@given(names, names)
def test_separator_splits_the_identity_into_exactly_three_fields(last: str, first: str) -> None:
    try:
        key = identity_key(last, first, BIRTH)
    except EmptyName:
        return
    assert key.split(FIELD_SEPARATOR) == [normalise_name(last), normalise_name(first), "1990-05-17"]
