"""Identity normalisation (domain.md §3), the input of the pseudonym.

Ligatures and letters NFKD keeps whole are transliterated first, then NFKD with accents
dropped, upper-case, every non-ASCII-alphanumeric character becomes a space, runs of spaces
collapse, and the result is trimmed. Fields are joined with U+001F, which normalisation
can never produce, so the split between last and first names is never ambiguous.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

FIELD_SEPARATOR = "\x1f"

_TRANSLITERATE = str.maketrans(
    {
        "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l",
        "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "ß": "SS", "ẞ": "SS", "Þ": "TH", "þ": "th",
        "Ħ": "H", "ħ": "h", "ı": "i",
    }
)
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")


class EmptyName(ValueError):
    """A name that normalises to nothing (only punctuation, spaces or symbols)."""


def normalise_name(value: str) -> str:
    """Normalise one name field; raise EmptyName when nothing is left."""
    # Transliterate after NFKD (no letter of the table decomposes, so nothing is lost): a
    # precomposed Ǽ or Ǿ only shows its Æ or Ø once NFKD has split off the accent.
    if value.isascii():  # nothing to decompose or transliterate (a bulk import's fast path)
        text = value.upper()
    else:
        text = unicodedata.normalize("NFKD", value)
        text = "".join(c for c in text if not unicodedata.combining(c))
        text = text.translate(_TRANSLITERATE).upper()
    text = _NOT_ALNUM.sub(" ", text).strip()
    if not text:
        raise EmptyName("name normalises to nothing")
    return text


def identity_key(last_name: str, first_names: str, birth_date: dt.date) -> str:
    """The normalised identity string that the pseudonym hashes."""
    return FIELD_SEPARATOR.join(
        (normalise_name(last_name), normalise_name(first_names), birth_date.isoformat())
    )


def normalise_nir(value: str) -> str:
    """Compact form of a NIR: spaces, dots and dashes removed, upper-case (2A/2B)."""
    return re.sub(r"[\s.\-]", "", value).upper()
