"""Form handling for the pages: the shared input schemas (cohort.schemas) validate, refusals
in French."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session

from cohort.errors import CohortError
from cohort.request_db import transaction
from cohort.web.messages import french, french_errors


@dataclass
class FormState:
    """What a form page needs to redisplay: the values typed and the French errors."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.message)

    def refuse(self, error: CohortError) -> FormState:
        """Show a service's refusal next to the fields it names (and above the form)."""
        self.errors.update(french_errors(error.errors))
        if not error.errors:
            self.message = french(error.message)
        elif not self.message:
            self.message = "Le formulaire contient des erreurs : voir les champs signalés."
        return self


def submitted(*, booleans: tuple[str, ...] = ()) -> dict[str, Any]:
    """The posted fields without the CSRF token; empty fields left out (so defaults apply);
    checkboxes as booleans."""
    data: dict[str, Any] = {}
    for key in request.form:
        if key == "csrf_token" or key in booleans:
            continue
        value = request.form.get(key, "").strip()
        if value != "":
            data[key] = value
    for key in booleans:
        data[key] = request.form.get(key) in ("on", "true", "1", "oui")
    return data


def load(schema: Schema, data: dict[str, Any]) -> tuple[dict[str, Any] | None, FormState]:
    """Validate with the shared schema; on failure the state carries French messages."""
    state = FormState(values=dict(data))
    try:
        return schema.load(data), state
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
        state.errors = french_errors(messages)
        state.message = "Le formulaire contient des erreurs : voir les champs signalés."
        return None, state


def attempt(state: FormState, write: Callable[[Session], object]) -> bool:
    """Run one service call in the request's unit of work; a refusal lands on the form
    (rolled back, nothing written) and the answer is False."""
    try:
        with transaction() as s:
            write(s)
    except CohortError as error:
        state.refuse(error)
        return False
    return True
