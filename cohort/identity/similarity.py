"""Keyed similarity keys: possible duplicates found without revealing anyone (issue 17).

Beside the exact pseudonym, an identity gets a few keys that spelling variants share:

- ``last_phonetic``: a French phonetic code of the whole last name (its words joined, so
  "Le Fevre" ≡ "Lefèvre" and "Dupont Le Fevre" ≡ "Dupond-Lefèvre") + the birth date;
- ``first_name``: the first names (words joined) + the birth date + the last name's
  first letter, and a second one with its last letter instead (so a typo anywhere in
  the last name, its first or last letter included, leaves one of the two intact);
- ``date_swap``: the phonetic last name + the birth date with day and month unordered
  (a 03/04 typed 04/03);
- ``name_part``: each part of a compound last name (particles kept with the word that
  follows) + the birth date + the first names' initial ("Dupont-Lefèvre" vs "Dupont").

Every identity has the same number of keys of each kind (padding where needed), so the
number of rows a participant has tells nothing about their name or birth date.

Each key is HMAC-SHA-256 under the ``similarity`` key purpose of ``kind \\x1f text`` (so
kinds never collide), and what the database stores is only its first ``DIGEST_BITS``
bits: a Bloom-filter bucket, as CipherSweet truncates its blind indexes, so a shared
stored value is a coincidence as often as a similarity (docs/duplicates.md works the
numbers). The full HMAC, recomputed from the decrypted candidate, confirms a match.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import re
from enum import StrEnum

from cohort.identity.keyring import PurposeKeys
from cohort.identity.normalise import FIELD_SEPARATOR, normalise_name

# 6 bits: about 2 coincidences per kind among people born in the same month once the
# service holds ~70,000 participants (CipherSweet's 2 <= C < sqrt(R), docs/duplicates.md).
DIGEST_BITS = 6
LAST_NAME_PREFIX = 1  # letters of each end of the last name in the first_name keys
NAME_PARTS = 3  # name_part keys per identity, real or padding (see key_texts)

# Words that belong to the next word of a French (or Flemish, Italian) compound name.
PARTICLES = frozenset({"LE", "LA", "LES", "DE", "DU", "DES", "D", "L", "VAN", "VON", "DER",
                       "DEN", "DI", "DA", "DEL", "DELLA", "DOS", "SAINT", "ST", "STE", "SAINTE"})


class Kind(StrEnum):
    LAST_PHONETIC = "last_phonetic"
    FIRST_NAME = "first_name"
    DATE_SWAP = "date_swap"
    NAME_PART = "name_part"


# French phonetic rewriting, applied in order to an A-Z string without spaces. It folds
# what French spelling writes several ways for one sound (PH/F, C/K/QU, soft G/J, Y/I,
# final silent T/D/S/X/Z/P), then voiced/unvoiced pairs (D/T, B/P, G/K, V/F, Z/S) that
# registrations confuse, then drops vowels after the first letter: a small cousin of
# Soundex2 and Phonex, kept readable rather than exhaustive.
_REWRITES = [(re.compile(pattern), repl) for pattern, repl in (
    (r"PH", "F"),
    (r"X(?!$)", "KS"),
    (r"T?S?CH|SH", "X"),
    (r"GN", "NI"),
    (r"QU|Q|CK", "K"),
    (r"C(?=[EIY])|Ç", "S"),
    (r"C", "K"),
    (r"GU(?=[EIY])", "K"),
    (r"G(?=[EIY])", "J"),
    (r"G", "K"),
    (r"TH", "T"),
    (r"H", ""),
    (r"W", "V"),
    (r"Y", "I"),
    (r"BV", "V"),
    (r"(?<=.)[TDSXZP]+$", ""),
    (r"D", "T"),
    (r"B", "P"),
    (r"V", "F"),
    (r"Z", "S"),
    (r"M", "N"),
)]
_VOWEL_START = re.compile(r"^[AEIOU]+")
_VOWELS_AFTER_FIRST = re.compile(r"(?<=.)[AEIOU]")
_RUNS = re.compile(r"(.)\1+")


# Surnames repeat (a bulk import meets the same few thousand again and again) and the
# rewriting costs ~20 regex passes: remember the codes of the recent ones.
@functools.lru_cache(maxsize=65536)
def french_phonetic(name: str) -> str:
    """A phonetic code of one normalised name (spaces ignored): DUPONT ≡ DUPOND ≡ DUPONDT."""
    text = re.sub(r"[^A-Z]", "", name)
    for pattern, repl in _REWRITES:
        text = pattern.sub(repl, text)
    text = _VOWEL_START.sub("A", text)  # any leading vowel sound: AUBERT ≡ OBERT
    text = _RUNS.sub(r"\1", _VOWELS_AFTER_FIRST.sub("", text))
    return text or re.sub(r"[^A-Z]", "", name)


def name_parts(normalised: str) -> list[str]:
    """The parts of a compound last name, particles joined to the word that follows."""
    parts: list[str] = []
    pending = ""
    for word in normalised.split():
        if word in PARTICLES:
            pending += word
            continue
        parts.append(pending + word)
        pending = ""
    if pending:
        parts.append(pending)
    return parts


def key_texts(last_name: str, first_names: str, birth_date: dt.date
              ) -> frozenset[tuple[Kind, str]]:
    """The texts the keys hash (pure; raises EmptyName like the pseudonym)."""
    last = normalise_name(last_name)
    first = normalise_name(first_names).replace(" ", "")
    joined = last.replace(" ", "")
    phonetic = french_phonetic(joined)
    day = birth_date.isoformat()
    texts = {
        (Kind.LAST_PHONETIC, f"{phonetic}{FIELD_SEPARATOR}{day}"),
        (Kind.FIRST_NAME, f"{first}{FIELD_SEPARATOR}{day}{FIELD_SEPARATOR}"
                          f"<{joined[:LAST_NAME_PREFIX]}"),
        (Kind.FIRST_NAME, f"{first}{FIELD_SEPARATOR}{day}{FIELD_SEPARATOR}"
                          f">{joined[-LAST_NAME_PREFIX:]}"),
    }
    # Made for every date, though only a day ≤ 12 can be swapped: a key present or absent
    # would tell whoever holds the database that the day is ≤ 12. Past the 12th it can
    # only meet the same date (which last_phonetic meets anyway).
    low, high = sorted((birth_date.day, birth_date.month))
    texts.add((Kind.DATE_SWAP, f"{phonetic}{FIELD_SEPARATOR}{birth_date.year:04d}"
                               f"-{low:02d}-{high:02d}"))
    parts = name_parts(last)
    if len(parts) > NAME_PARTS:
        parts = [*parts[:NAME_PARTS - 1], "".join(parts[NAME_PARTS - 1:])]
    part_texts = {f"{french_phonetic(part)}{FIELD_SEPARATOR}{day}{FIELD_SEPARATOR}{first[:1]}"
                  for part in parts}
    # Padded to NAME_PARTS keys so that their number does not tell a compound name. A pad
    # hashes the identity's letters ("~" never occurs in a phonetic code): it meets only
    # the same letters, spaces aside ("Dupont Lefevre" and "Dupontlefevre").
    filler = 0
    while len(part_texts) < NAME_PARTS:
        part_texts.add(f"~{filler}{FIELD_SEPARATOR}{joined}{FIELD_SEPARATOR}{day}"
                       f"{FIELD_SEPARATOR}{first}")
        filler += 1
    texts.update((Kind.NAME_PART, text) for text in part_texts)
    return frozenset(texts)


def full_keys(key: bytes, texts: frozenset[tuple[Kind, str]]) -> frozenset[tuple[Kind, bytes]]:
    """Each text's whole HMAC-SHA-256, for confirming a candidate (never stored)."""
    return frozenset(
        (kind, hmac.digest(key, f"{kind}{FIELD_SEPARATOR}{text}".encode(), "sha256"))
        for kind, text in texts)


def truncate(digest: bytes) -> int:
    """The stored bucket: the first DIGEST_BITS bits of a full key."""
    return int.from_bytes(digest[:4], "big") >> (32 - DIGEST_BITS)


def stored_keys(keys: PurposeKeys, version: int, texts: frozenset[tuple[Kind, str]]
                ) -> frozenset[tuple[str, int]]:
    """(kind, bucket) pairs to store or look up under one key version."""
    return frozenset((str(kind), truncate(digest))
                     for kind, digest in full_keys(keys.key(version), texts))


def birth_months(birth_date: dt.date) -> tuple[str, ...]:
    """The clear birth months a match can have: its own, and the swapped one if any."""
    months = {f"{birth_date.year:04d}-{birth_date.month:02d}"}
    if birth_date.day <= 12 and birth_date.month <= 12:
        months.add(f"{birth_date.year:04d}-{birth_date.day:02d}")
    return tuple(sorted(months))
