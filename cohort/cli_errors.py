"""How every `cohort` command reports a refusal: the message, each field and reason, exit 2.

No traceback, and never a value typed by the user (errors name fields and rules only).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import click

from cohort.errors import CohortError


def fail(exc: CohortError) -> NoReturn:
    click.echo(f"error: {exc.message}", err=True)
    for field, reasons in exc.errors.items():
        for reason in reasons if isinstance(reasons, list) else [reasons]:
            click.echo(f"  {field}: {reason}", err=True)
    sys.exit(2)


def fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors raised by a command into `fail`."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CohortError as exc:
            fail(exc)

    return wrapper
