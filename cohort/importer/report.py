"""What an import reports: row errors (row, column, reason) or the counts of what it did.

Reasons name columns and rules, never a cell's value: an import file holds identities.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

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
    """The file was refused as a whole; nothing of it was written. ``result`` holds the
    counts of what the file would have done (the refused rows left out), when the whole
    file was read."""

    code = "import_failed"

    def __init__(self, errors: list[RowError], *, stopped: bool = False,
                 result: ImportResult | None = None):
        count = f"{len(errors)}{'+' if stopped else ''}"
        super().__init__(f"{count} row error(s); nothing was imported")
        self.row_errors = errors
        self.stopped = stopped
        self.result = result


class ErrorLog:
    """Collects row errors; tells the importer when to stop reading (after ``limit``
    errors; None: never, when every refused row is to be reported)."""

    def __init__(self, limit: int | None = MAX_ERRORS) -> None:
        self.errors: list[RowError] = []
        self.stopped = False
        self.limit = limit

    def add(self, error: RowError) -> None:
        self.errors.append(error)
        if self.limit is not None and len(self.errors) >= self.limit:
            self.stopped = True

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.add(error)

    def raise_if_any(self, result: ImportResult | None = None) -> None:
        if self.errors:
            self.errors.sort(key=lambda e: e.row)
            if result is not None:
                result.refused = len({e.row for e in self.errors})
            raise ImportFailed(self.errors, stopped=self.stopped, result=result)


def by_rule(errors: Iterable[RowError]) -> list[tuple[str | None, str, int]]:
    """(column, reason, rows) for each distinct refusal, the most frequent first."""
    counted = Counter((e.column, e.reason) for e in errors)
    return [(column, reason, n) for (column, reason), n in
            sorted(counted.items(), key=lambda item: (-item[1], str(item[0])))]


ERROR_COLUMNS = ("line", "column", "rule")


def write_errors(out: IO[str], errors: Iterable[RowError]) -> None:
    """Every refused row as CSV: its line, the column and the rule (never a cell's value:
    the reasons name columns and rules only)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ERROR_COLUMNS)
    for e in errors:
        writer.writerow((e.row, e.column or "", e.reason))


# What each kind of file may do to a row, in the order the summary says it.
COUNTS = {
    "participants": ("created", "unchanged", "refused"),
    "enrolments": ("created_open", "created_ended", "ended", "unchanged", "refused"),
    "enrolment-ends": ("ended", "unchanged", "refused"),
    "cancellations": ("cancelled", "unchanged", "refused"),
    "events": ("created", "unchanged", "refused"),
    "voids": ("voided", "unchanged", "refused"),
    "corrections": ("corrected", "unchanged", "refused"),
    "operations": ("created", "changed", "unchanged", "refused"),
}


@dataclass
class ImportResult:
    """Counts of one import: what each data row did (or would do, refused rows aside).

    ``created`` counts every row created (for enrolments, ``created_ended`` of them were
    created already ended); ``created_ids`` maps the file's row number to the uuid created.
    """

    kind: str
    rows: int = 0
    created: int = 0
    created_ended: int = 0
    ended: int = 0
    cancelled: int = 0
    voided: int = 0
    corrected: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: int = 0
    created_ids: dict[int, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)  # a dry run's refusals
    keep_ids: bool = False  # fill created_ids (a million events' uuids cost ~150 MB)

    def created_one(self, row: int, uid: Any) -> None:
        self.created += 1
        if self.keep_ids:
            self.created_ids[row] = str(uid)

    @property
    def created_open(self) -> int:
        return self.created - self.created_ended

    def counts(self) -> dict[str, int]:
        names = COUNTS.get(self.kind, ("created", "unchanged", "refused"))
        return {"rows": self.rows} | {name: getattr(self, name) for name in names}

    def summary(self) -> str:
        counts = self.counts()
        rows = counts.pop("rows")
        return f"{self.kind}: {rows} rows, " + ", ".join(
            f"{name.replace('_', ' ')} {n}" for name, n in counts.items())

    def as_json(self, *, path: str | Path, dry_run: bool, imported: bool,
                errors: list[RowError]) -> dict[str, Any]:
        """The machine-readable summary (``--summary-json``)."""
        return {
            "kind": self.kind,
            "file": Path(path).name,
            "dry_run": dry_run,
            "imported": imported,
            "counts": self.counts(),
            "refused_by_rule": [{"column": c, "rule": r, "rows": n}
                                for c, r, n in by_rule(errors)],
            # What was created, by the file's row number; a dry run creates nothing.
            "created": {} if dry_run or not imported
            else {str(row): uid for row, uid in sorted(self.created_ids.items())},
        }


def dump_json(path: str | Path, data: Mapping[str, Any]) -> None:
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


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
