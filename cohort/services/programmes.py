"""Programme files loaded into the database: the programme and its actions upserted.

Parsing and validation are in ``services.programme_file``; this module only writes what
passed, comparing each column first so that re-loading the same file changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohort.domain import operators, rules
from cohort.models import Action, Programme, Structure
from cohort.services.programme_file import parse_programme_text, read_programme_file

PROGRAMME_FIELDS = ("title", "period_start", "period_end", "parties", "settings")
ACTION_FIELDS = ("departement", "axis", "title", "public", "territory", "eligibility",
                 "operators", "budget", "targets", "indicators", "settings")


@dataclass(frozen=True)
class LoadResult:
    """What a load did: the programme's fate, and counts of actions created/updated/unchanged.

    ``not_in_file`` lists actions already stored for the programme that the file no longer
    has; they are kept (enrolments and operations may point at them) and left to an
    administrator.
    """

    programme_code: str
    programme: str
    created: int
    updated: int
    unchanged: int
    not_in_file: tuple[str, ...] = ()


def _assign(row: Any, values: Mapping[str, Any]) -> bool:
    """Set the columns that differ; True when anything changed (so unchanged rows stay clean)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def upsert_programme(session: Session, data: Mapping[str, Any], sha256: str) -> LoadResult:
    """Create or update the programme by code and its actions by (programme, code); flush only.

    Comparing each column before writing keeps a re-load of the same file a no-op.
    """
    spec = data["programme"]
    values = {name: spec[name] for name in PROGRAMME_FIELDS} | {"source_sha256": sha256}
    programme = session.execute(
        select(Programme).where(Programme.code == spec["code"])
    ).scalar_one_or_none()
    if programme is None:
        programme = Programme(code=spec["code"], **values)
        session.add(programme)
        session.flush()
        status = "created"
    else:
        status = "updated" if _assign(programme, values) else "unchanged"

    stored = {
        a.code: a
        for a in session.execute(
            select(Action).where(Action.programme_id == programme.id)
        ).scalars()
    }
    created = updated = unchanged = 0
    for item in data["actions"]:
        action_values = {name: item[name] for name in ACTION_FIELDS}
        action = stored.pop(item["code"], None)
        if action is None:
            session.add(Action(programme_id=programme.id, code=item["code"], **action_values))
            created += 1
        elif _assign(action, action_values):
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return LoadResult(programme_code=spec["code"], programme=status, created=created,
                      updated=updated, unchanged=unchanged, not_in_file=tuple(sorted(stored)))


def load_programme_file(session: Session, path: str | Path) -> LoadResult:
    """Validate a programme file and upsert it; the file's sha256 is kept on the programme."""
    raw, text = read_programme_file(path)
    data = parse_programme_text(text, source=str(path))
    return upsert_programme(session, data, hashlib.sha256(raw).hexdigest())


def actions_for_enrolment(session: Session, structure: Structure | None = None
                          ) -> list[Action]:
    """The actions one may enrol in, by programme then code (the enrol form's choices):
    with a structure, only those it may enrol into (domain.md §2 "Operators"); without,
    every action (an administrator may force the others)."""
    actions = session.execute(
        select(Action).join(Programme, Programme.id == Action.programme_id)
        .order_by(Programme.code, Action.code)
    ).scalars()
    if structure is None:
        return list(actions)
    return [a for a in actions if operators.may_enrol(
        action_departement=a.departement, operators=a.operators or (),
        structure_kind=structure.kind, structure_departement=structure.departement)]


def needs_intensity(action: Action) -> bool:
    """Whether enrolling in the action needs an intensity (simple or reinforced)."""
    return rules.needs_intensity(action.settings or {})
