"""Similarity keys (identity/similarity.py): the usual variants share a key, others do not."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from cohort.identity.keyring import Purpose, PurposeKeys
from cohort.identity.normalise import EmptyName, normalise_name
from cohort.identity.similarity import (
    DIGEST_BITS,
    birth_months,
    french_phonetic,
    full_keys,
    key_texts,
    name_parts,
    stored_keys,
    truncate,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
BIRTH = dt.date(1998, 3, 4)


def shared(a: tuple[str, str, dt.date], b: tuple[str, str, dt.date]) -> set[str]:
    """The kinds whose full keys two identities share."""
    mine, theirs = full_keys(KEY, key_texts(*a)), full_keys(KEY, key_texts(*b))
    return {str(kind) for kind, _ in mine & theirs}


@pytest.mark.parametrize(("one", "other"), [
    ("Dupont", "Dupond"), ("Lefèvre", "Lefebvre"), ("Le Fevre", "LEFEVRE"),
    ("Thomas", "Tomas"), ("Gauthier", "Gautier"), ("Philippe", "Filipe"),
    ("Rousseau", "Rousso"), ("Aubert", "Obert"), ("Caron", "Karon"), ("Bonnet", "Bonet"),
    ("Vincent", "Vinsent"), ("Leroy", "Leroi"), ("Michel", "Mitchel"),
    ("Schmitt", "Chmit"), ("Lambert", "Lanbert"), ("Dupuis", "Dupuy"),
])
def test_french_respellings_sound_alike(one: str, other: str) -> None:
    assert french_phonetic(normalise_name(one)) == french_phonetic(normalise_name(other))


@pytest.mark.parametrize(("one", "other"), [
    ("Dupont", "Durand"), ("Martin", "Bernard"), ("Descamps", "Deschamps"),
    ("Petit", "Lefevre"),
])
def test_different_names_keep_different_codes(one: str, other: str) -> None:
    assert french_phonetic(normalise_name(one)) != french_phonetic(normalise_name(other))


def test_a_phonetic_code_is_never_empty() -> None:
    assert french_phonetic("T") == "T"
    assert french_phonetic("EAU") == "A"


def test_the_three_spellings_of_the_issue_share_a_key() -> None:
    spellings = ["Dupont Le Fevre", "Dupond-Lefèvre", "dupont lefèvre"]
    for a in spellings:
        for b in spellings:
            assert {"last_phonetic", "name_part"} <= shared((a, "Camille", BIRTH),
                                                            (b, "Camille", BIRTH))


def test_compound_names_split_joined_or_shortened() -> None:
    assert name_parts("DUPONT LE FEVRE") == ["DUPONT", "LEFEVRE"]
    assert name_parts("DE LA TOUR") == ["DELATOUR"]
    assert name_parts("VAN DER BERG MARTIN") == ["VANDERBERG", "MARTIN"]
    assert name_parts("MARTIN DE") == ["MARTIN", "DE"]
    assert "last_phonetic" in shared(("Le Fevre", "Camille", BIRTH),
                                     ("Lefèvre", "Camille", BIRTH))
    # One part of a double name, typed alone, still meets the whole.
    # (Other first names with the same initial, so that only the part can match.)
    assert shared(("Dupont-Lefèvre", "Camille", BIRTH),
                  ("Lefebvre", "Cami", BIRTH)) == {"name_part"}
    assert shared(("Dupont Lefèvre", "Camille", BIRTH),
                  ("Dupond", "Cami", BIRTH)) == {"name_part"}


def test_first_names_join_like_the_last_name() -> None:
    assert shared(("Dupont", "Jean Pierre", BIRTH), ("Dupont", "Jean-Pierre", BIRTH)) \
        == shared(("Dupont", "Jean Pierre", BIRTH), ("Dupont", "JEANPIERRE", BIRTH))
    assert "first_name" in shared(("Dupont", "Jean Pierre", BIRTH),
                                  ("Dupont", "Jeanpierre", BIRTH))


@pytest.mark.parametrize(("a", "b", "kind"), [
    (("Dupont", "Camille", BIRTH), ("Dupont", "Camile", BIRTH), "last_phonetic"),
    (("Dupont", "Camille", BIRTH), ("Dupont", "Kamille", BIRTH), "last_phonetic"),
    (("Fournier", "Camille", BIRTH), ("Fourier", "Camille", BIRTH), "first_name"),
    (("Fournier", "Camille", BIRTH), ("Fourneir", "Camille", BIRTH), "first_name"),
    (("Lambert", "Camille", BIRTH), ("Lambret", "Camille", BIRTH), "first_name"),
    # The first letter itself: the key with the last letter still holds.
    (("Fournier", "Camille", BIRTH), ("Gournier", "Camille", BIRTH), "first_name"),
    (("Fournier", "Camille", BIRTH), ("Ournier", "Camille", BIRTH), "first_name"),
])
def test_one_letter_typos(a: tuple[str, str, dt.date], b: tuple[str, str, dt.date],
                          kind: str) -> None:
    assert kind in shared(a, b)


def test_swapped_day_and_month() -> None:
    swapped = dt.date(1998, 4, 3)
    assert shared(("Dupont", "Camille", BIRTH), ("Dupont", "Camille", swapped)) == {"date_swap"}
    assert birth_months(BIRTH) == ("1998-03", "1998-04")
    # Past the 12th no swap is possible: the key is still made (its absence would tell the
    # day), and it meets only the same date.
    late = dt.date(1998, 3, 24)
    assert "date_swap" in shared(("Dupont", "Camille", late), ("Dupont", "Louis", late))
    assert shared(("Dupont", "Camille", late), ("Dupont", "Camille",
                                                dt.date(1998, 12, 3))) == set()
    assert birth_months(late) == ("1998-03",)


def test_every_identity_has_as_many_keys_of_each_kind() -> None:
    """The row count must not tell a compound name or a day ≤ 12."""
    shapes = set()
    for last, born in [("Dupont", BIRTH), ("Dupont Le Fevre", dt.date(1998, 3, 24)),
                       ("Martin Martin", BIRTH), ("De La Tour Du Pin Vert Loup", BIRTH),
                       ("Lefèvre", dt.date(1998, 3, 3))]:
        kinds = Counter(kind for kind, _ in key_texts(last, "Camille", born))
        shapes.add(tuple(sorted(kinds.items())))
    assert shapes == {(("date_swap", 1), ("first_name", 2), ("last_phonetic", 1),
                       ("name_part", 3))}


def test_different_people_share_nothing() -> None:
    assert shared(("Dupont", "Camille", BIRTH), ("Durand", "Louis", BIRTH)) == set()
    assert shared(("Dupont", "Camille", BIRTH), ("Dupont", "Camille",
                                                 dt.date(1998, 3, 5))) == set()


def test_kinds_are_domain_separated_and_keyed() -> None:
    texts = key_texts("Dupont", "Camille", BIRTH)
    digests = [d for _, d in full_keys(KEY, texts)]
    assert len(set(digests)) == len(texts)
    assert not full_keys(KEY, texts) & full_keys(OTHER_KEY, texts)


def test_stored_buckets_are_truncated_and_versioned() -> None:
    keys = PurposeKeys(Purpose.SIMILARITY, 2, {1: KEY, 2: OTHER_KEY})
    texts = key_texts("Dupont", "Camille", BIRTH)
    v1, v2 = stored_keys(keys, 1, texts), stored_keys(keys, 2, texts)
    assert all(0 <= digest < 2 ** DIGEST_BITS for _, digest in v1 | v2)
    assert stored_keys(keys, 1, texts) == v1  # deterministic
    assert truncate(bytes([0b10110100]) + bytes(31)) == 0b10110100 >> (8 - DIGEST_BITS)


def test_empty_names_are_refused_like_the_pseudonym() -> None:
    with pytest.raises(EmptyName):
        key_texts("--", "Camille", BIRTH)
