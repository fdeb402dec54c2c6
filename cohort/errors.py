"""Domain errors, free of HTTP; each kind of shell maps them in one place:
``cohort.shell.errors`` for the API and the pages, ``cohort.cli_errors`` for commands.

Messages never contain identity values: they name fields and rules, not what was typed.
"""

from __future__ import annotations

from collections.abc import Sequence


class CohortError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None,
                 details: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        # Public ids the client needs to act on the refusal (e.g. the event already
        # recorded), answered beside ``errors``; never a typed value.
        self.details = details or {}


class NotFound(CohortError):
    status = 404
    code = "not_found"


class Forbidden(CohortError):
    status = 403
    code = "forbidden"


class Conflict(CohortError):
    status = 409
    code = "conflict"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None,
                 details: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message, errors=errors, details=details)
        if code is not None:
            self.code = code


class Rejected(CohortError):
    """A rule refused the input; names the field and the reason, or each of several
    reasons (e.g. every failed eligibility rule), kept apart in ``errors[field]`` so that a
    shell shows them one by one without splitting text."""

    status = 422
    code = "rejected"

    def __init__(self, field: str, reason: str | Sequence[str], *, code: str = "rejected"):
        reasons = [reason] if isinstance(reason, str) else list(reason)
        super().__init__(f"{field}: {'; '.join(reasons)}", errors={field: reasons})
        self.field = field
        self.reason = "; ".join(reasons)
        self.code = code


class ConfigError(CohortError):
    """Misconfiguration found at start-up; names the setting, never its value."""

    code = "config"


class StatementTimeout(CohortError):
    """A query ran past its deadline and was stopped by the database: the worker is freed
    instead of being killed by the server's timeout (issue 18)."""

    status = 503
    code = "statement_timeout"
