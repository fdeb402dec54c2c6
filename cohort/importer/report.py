"""What an import reports: row errors (row, column, reason) or the counts of what it did.

Reasons name columns and rules, never a cell's value: an import file holds identities.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cohort.errors import CohortError

MAX_ERRORS = 1000  # past this many the import stops reading: the file is wrong throughout


@dataclass(frozen=True, slots=True)
class RowError:
    """One refused row; ``row`` counts the header as row 1, like a spreadsheet."""

    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        if self.column is None:
            return f"row {self.row}: {self.reason}"
        return f"row {self.row}, column {self.column}: {self.reason}"


class ImportFailed(CohortError):
    """The file was refused as a whole; nothing of it was written."""

    code = "import_failed"

    def __init__(self, errors: list[RowError], *, stopped: bool = False):
        count = f"{len(errors)}{'+' if stopped else ''}"
        super().__init__(f"{count} row error(s); nothing was imported")
        self.row_errors = errors
        self.stopped = stopped


class ErrorLog:
    """Collects row errors; tells the importer when to stop reading."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.stopped = False

    def add(self, error: RowError) -> None:
        self.errors.append(error)
        if len(self.errors) >= MAX_ERRORS:
            self.stopped = True

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.add(error)

    def raise_if_any(self) -> None:
        if self.errors:
            self.errors.sort(key=lambda e: e.row)
            raise ImportFailed(self.errors, stopped=self.stopped)


@dataclass
class ImportResult:
    """Counts of one import: every data row is created, ended (enrolments) or unchanged."""

    kind: str
    rows: int = 0
    created: int = 0
    ended: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        parts = [f"created {self.created}"]
        if self.kind == "enrolments":
            parts.append(f"ended {self.ended}")
        parts.append(f"unchanged {self.unchanged}")
        return f"{self.kind}: {self.rows} rows, " + ", ".join(parts)


def messages_to_errors(row: int, messages: Any, column_of: Mapping[str, str] | None = None,
                       prefix: str | None = None) -> list[RowError]:
    """Flatten marshmallow messages into row errors, one per (field, message).

    Nested keys (``attributes.mode``) report their innermost field, which is the column;
    ``column_of`` renames API fields to the file's columns.
    """
    out: list[RowError] = []
    if isinstance(messages, Mapping):
        for key, sub in messages.items():
            field = prefix if key == "_schema" else str(key)
            out.extend(messages_to_errors(row, sub, column_of, field))
    elif isinstance(messages, list | tuple):
        for sub in messages:
            out.extend(messages_to_errors(row, sub, column_of, prefix))
    else:
        column = (column_of or {}).get(prefix or "", prefix)
        out.append(RowError(row, column, str(messages)))
    return out


def error_to_rows(row: int, error: CohortError,
                  column_of: Mapping[str, str] | None = None) -> list[RowError]:
    """A service-style error (field → reasons) as row errors naming the file's columns."""
    if not error.errors:
        return [RowError(row, None, error.message)]
    return messages_to_errors(row, error.errors, column_of)
