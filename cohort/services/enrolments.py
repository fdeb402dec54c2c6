"""Enrol participants in actions (eligibility checked) and end enrolments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cohort.actors import Actor
from cohort.domain import eligibility
from cohort.domain.calendar import age_in_years
from cohort.errors import Conflict, Forbidden, Rejected
from cohort.identity.keyring import Keyring
from cohort.models import Action, Enrolment, Participant, Structure
from cohort.services.lookup import by_uuid
from cohort.services.participants import birth_date_of


def enrol(session: Session, keyring: Keyring, actor: Actor, data: dict[str, Any],
          *, today: dt.date, now: dt.datetime) -> Enrolment:
    """Enrol a participant; refuse an ineligible one unless forced with a justification."""
    participant = by_uuid(session, Participant, data["participant_id"], "participant_id")
    action = by_uuid(session, Action, data["action_id"], "action_id")
    structure = by_uuid(session, Structure, data["structure_id"], "structure_id")
    start: dt.date = data["start_date"]
    if start > today:
        raise Rejected("start_date", "is in the future")
    birth = birth_date_of(keyring, participant)
    if birth is None:
        raise Rejected("participant_id", "identity erased: cannot enrol")
    if start < birth:
        raise Rejected("start_date", "is before the participant's birth")
    if action.settings.get("intensity_units") and not data.get("intensity"):
        raise Rejected("intensity", "required for this action (simple or reinforced)")

    age = age_in_years(birth, start)
    facts = eligibility.Facts(
        age=age,
        rsa_at_entry=data["rsa_at_entry"],
        ase_past=participant.ase_past,
        parent_child_0_3=data.get("parent_child_0_3", False),
    )
    verdict = eligibility.check(action.eligibility, facts)
    forced = bool(data.get("force"))
    if forced:
        if not actor.is_admin:
            raise Forbidden("only an administrator may force an ineligible enrolment")
        if not (data.get("force_justification") or "").strip():
            raise Rejected("force_justification", "required to force an enrolment")
    elif not verdict.ok:
        raise Rejected("eligibility", "; ".join(verdict.reasons), code="ineligible")

    enrolment = Enrolment(
        participant_id=participant.id,
        action_id=action.id,
        structure_id=structure.id,
        start_date=start,
        rsa_at_entry=data["rsa_at_entry"],
        age_at_entry=age,
        under_26=age < 26,
        ase_past=participant.ase_past,
        parent_child_0_3=data.get("parent_child_0_3", False),
        intensity=data.get("intensity"),
        forced=forced and not verdict.ok,
        force_justification=data.get("force_justification") if forced and not verdict.ok else None,
        recorded_at=now,
    )
    try:
        with session.begin_nested():
            session.add(enrolment)
    except IntegrityError:
        raise Conflict(
            "the participant already has an open enrolment in this action",
            errors={"action_id": ["an open enrolment already exists"]},
        ) from None
    return enrolment


def end(session: Session, actor: Actor, enrolment: Enrolment, data: dict[str, Any],
        *, today: dt.date, now: dt.datetime) -> Enrolment:
    """End an open enrolment with its last day of support and an exit reason.

    ``expected_version`` (optional) turns a lost update into a 409: two coordinators
    ending the same enrolment cannot both win.
    """
    expected = data.get("expected_version")
    if expected is not None and expected != enrolment.version:
        raise Conflict("the enrolment changed since it was read",
                       errors={"expected_version": ["stale"]})
    if enrolment.end_date is not None:
        raise Conflict("the enrolment is already ended", errors={"end_date": ["already ended"]})
    end_date: dt.date = data["end_date"]
    if end_date < enrolment.start_date:
        raise Rejected("end_date", "is before the enrolment's start date")
    if end_date > today:
        raise Rejected("end_date", "is in the future")
    enrolment.end_date = end_date
    enrolment.exit_reason = data["exit_reason"]
    enrolment.end_recorded_at = now
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("the enrolment changed since it was read",
                       errors={"end_date": ["already changed by someone else"]}) from None
    return enrolment


def first_start(session: Session, participant_id: int) -> dt.date | None:
    """The participant's earliest enrolment start (event dates are checked against it)."""
    return session.execute(
        sa.select(sa.func.min(Enrolment.start_date)).where(
            Enrolment.participant_id == participant_id
        )
    ).scalar_one()
