"""Programme files: a convention year as TOML data, parsed by tomllib and validated here.

A new year's convention, or the Nord's finalised sheets, is a file under
``config/programmes/``, not a change to Python. The file has one ``[programme]`` table
(code, title, period_start, period_end, parties, ``[programme.settings]``) and one
``[[actions]]`` table per action sheet (code, departement, axis, title, public, territory,
eligibility, indicators, ``[actions.budget]``, ``[[actions.targets]]``,
``[actions.settings]``). The schemas that validate it are in ``schemas.programme_file``.

Errors name the key path (``actions[3].eligibility[1].require``) and a line. A syntax
error carries tomllib's own line and column. tomllib keeps no positions for values, so a
schema error's line is found by asking tomllib again: the first prefix of the file (whole
lines) that parses and holds the key. That is the key's own line, except inside a value
spread over several lines (a multi-line array or string), where it is the line that
closes that value. No TOML is read by anything but tomllib. The upsert of a validated file
is in ``services.programmes``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import marshmallow as ma

from cohort.errors import CohortError
from cohort.schemas.programme_file import ProgrammeFileSchema

KeyPath = tuple[str | int, ...]


class ProgrammeFileError(CohortError):
    """A programme file that cannot be loaded; names the key path (or line) of each problem."""

    status = 422
    code = "programme_file"

    def __init__(self, source: str, problems: list[Problem]):
        first = problems[0]
        where = f"line {first.line}" if first.line is not None else None
        if first.path:
            subject = f"{first.path} ({where})" if where else first.path
        else:
            subject = where or "the file"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        errors: dict[str, list[str]] = {}
        for p in problems:
            prefix = f"line {p.line}: " if p.line is not None else ""
            errors.setdefault(p.path or "_file", []).append(prefix + p.reason)
        super().__init__(f"{source}: {subject}: {first.reason}{more}", errors=errors)
        self.source = source
        self.problems = problems
        self.path = first.path
        self.line = first.line


@dataclass(frozen=True)
class Problem:
    path: str  # "actions[3].budget.state"; "" for the file as a whole
    line: int | None  # None: the problem is not tied to a key of the file
    reason: str


# --- error paths ------------------------------------------------------------------------

def format_path(path: KeyPath) -> str:
    """``("actions", 3, "budget", "state")`` → ``actions[3].budget.state``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _present(data: Any, path: KeyPath) -> bool:
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return False
        elif not isinstance(data, Mapping) or part not in data:
            return False
        data = data[part]
    return True


def locate(text: str, raw: Mapping[str, Any], path: KeyPath) -> int | None:
    """The line by which ``path`` (or its nearest enclosing key in ``raw``) is written.

    A binary search over whole-line prefixes that tomllib accepts: once a key is in a
    valid prefix, it is in every longer one. A prefix that cuts a multi-line value does not
    parse and counts as the next one that does.
    """
    while path and not _present(raw, path):
        path = path[:-1]
    if not path:
        return None
    lines = text.splitlines(keepends=True)

    def first_valid(k: int) -> tuple[int, bool]:
        for j in range(k, len(lines) + 1):
            try:
                prefix = tomllib.loads("".join(lines[:j]))
            except tomllib.TOMLDecodeError:
                continue
            return j, _present(prefix, path)
        return len(lines), True

    lo, hi = 1, len(lines)
    while lo < hi:
        mid = (lo + hi) // 2
        if first_valid(mid)[1]:
            hi = mid
        else:
            lo = mid + 1
    return first_valid(lo)[0]


def _order(path: str) -> list[Any]:
    """Within a line, ``actions[2]`` before ``actions[10]``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path)]


def _flatten(messages: Any, path: KeyPath = ()) -> Iterable[tuple[KeyPath, str]]:
    if isinstance(messages, Mapping):
        for key, sub in messages.items():
            yield from _flatten(sub, path if key == "_schema" else path + (key,))
    elif isinstance(messages, list | tuple):
        for sub in messages:
            yield from _flatten(sub, path)
    else:
        yield path, str(messages)


# --- parsing ----------------------------------------------------------------------------

_AT_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_programme_text(text: str, *, source: str = "<programme>") -> dict[str, Any]:
    """Parse and validate a programme file's text; raise ProgrammeFileError naming each problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc)
        m = _AT_LINE.search(detail)
        line = int(m.group(1)) if m else None
        reason = "TOML syntax error: " + _AT_LINE.sub("", detail).strip()
        if m:
            reason += f" (column {m.group(2)})"
        raise ProgrammeFileError(source, [Problem("", line, reason)]) from None
    try:
        return ProgrammeFileSchema().load(raw)
    except ma.ValidationError as exc:
        problems = [Problem(format_path(path), locate(text, raw, path), reason)
                    for path, reason in _flatten(exc.messages)]
        problems.sort(key=lambda p: (p.line is None, p.line or 0, _order(p.path)))
        raise ProgrammeFileError(source, problems) from None


def read_programme_file(path: str | Path) -> tuple[bytes, str]:
    """The file's bytes (for its sha256) and its text; refuses what is not UTF-8."""
    data = Path(path).read_bytes()
    try:
        return data, data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProgrammeFileError(str(path), [Problem("", None, "is not UTF-8 text")]) from None


def parse_programme_file(path: str | Path) -> dict[str, Any]:
    """Read, parse and validate a programme file (no database); see parse_programme_text."""
    _, text = read_programme_file(path)
    return parse_programme_text(text, source=str(path))
