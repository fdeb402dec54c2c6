"""Reading import files: UTF-8 with or without BOM, `;` or `,` detected, quoted fields.

The file is streamed row by row (never held whole). Row numbers count the header as row 1,
so they are the row numbers a spreadsheet shows, even when a quoted cell spans lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO

from cohort.importer.report import ImportFailed, RowError

SEPARATORS = (";", ",")
# Spreadsheet exports write booleans in the user's language; the schemas speak English.
BOOLEAN_WORDS = {"oui": "true", "non": "false"}


def detect_separator(header: str, known: Collection[str]) -> str:
    """The separator under which the header names the most known columns (ties: more cells)."""
    def score(sep: str) -> tuple[int, int]:
        cells = [c.strip().lower() for c in next(csv.reader([header], delimiter=sep))]
        return (sum(c in known for c in cells), len(cells))

    return max(SEPARATORS, key=score)


class CsvFile:
    """An open import file: its separator, its header, then its data rows on demand."""

    def __init__(self, path: str | Path, known: Collection[str]):
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self._raw: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        # surrogateescape: a byte that is not UTF-8 reaches the row check below, which can
        # then name its row and column instead of failing somewhere in a read-ahead buffer.
        self._text = io.TextIOWrapper(self._raw, encoding="utf-8-sig",
                                      errors="surrogateescape", newline="")
        header = self._text.readline()
        if not header.strip():
            self.close()
            raise ImportFailed([RowError(1, None, "the file is empty (no header row)")])
        self.separator = detect_separator(header, known)
        names = next(csv.reader([header], delimiter=self.separator, strict=True))
        self.columns = [name.strip().lower() for name in names]
        self._reader = csv.reader(self._text, delimiter=self.separator, strict=True)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (row number, cells) for each non-blank data row."""
        number = 1
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFailed([RowError(number + 1, None,
                                             f"malformed CSV ({exc}); reading stopped")]) from None
            number += 1
            if cells and any(c.strip() for c in cells):
                yield number, cells

    def position(self) -> int:
        """Bytes consumed so far (for a progress bar)."""
        return self._raw.tell()

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def check_header(columns: list[str], allowed: Collection[str],
                 required: Collection[str]) -> list[RowError]:
    """Unknown, repeated and missing columns, reported on row 1.

    An unknown header cell is named by its position, not echoed: a file without a header
    row would otherwise print its first person's identity.
    """
    errors = []
    seen: set[str] = set()
    for position, name in enumerate(columns, start=1):
        if name not in allowed:
            errors.append(RowError(1, str(position), "unknown column name (known: "
                                   + ", ".join(allowed) + ")"))
        elif name in seen:
            errors.append(RowError(1, name, "repeated column"))
        seen.add(name)
    errors += [RowError(1, name, "missing column") for name in required if name not in seen]
    return errors


def cells_to_dict(row: int, columns: list[str], cells: list[str],
                  booleans: Collection[str] = ()) -> tuple[dict[str, str], list[RowError]]:
    """The row's non-empty cells by column, trimmed; empty cells are absent.

    Cells are data whatever they look like: a leading ``=``, ``+`` or ``@`` is kept as typed.
    """
    if len(cells) != len(columns):
        return {}, [RowError(row, None, f"has {len(cells)} cells, the header has {len(columns)}")]
    values: dict[str, str] = {}
    errors: list[RowError] = []
    for name, cell in zip(columns, cells, strict=True):
        value = cell.strip()
        if not value:
            continue
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                errors.append(RowError(row, name, "is not UTF-8 text"))
                continue
        if name in booleans:
            value = BOOLEAN_WORDS.get(value.lower(), value)
        values[name] = value
    return values, errors


def pick(values: Mapping[str, str], names: Collection[str]) -> dict[str, str]:
    return {name: values[name] for name in names if name in values}
