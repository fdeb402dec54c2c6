"""Pages for coordinators: find or register a person, their pathway, enrolments and events."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from cohort import clock
from cohort.actors import Role
from cohort.auth import allow
from cohort.models import Participant
from cohort.request_db import session
from cohort.services.lookup import by_uuid
from cohort.services.timeline import timeline
from cohort.web.blueprint import bp

PERSON_ROLES = (Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)


@bp.route("/personnes/<uuid:participant_id>")
@allow(*PERSON_ROLES)
def participant(participant_id: Any) -> Any:
    """A person's pseudonymous record and pathway (the service scopes: out of scope → 404)."""
    s = session()
    record = by_uuid(s, Participant, participant_id, "participant_id")
    view = timeline(s, g.actor, record, now=clock.now())
    return render_template("coordination/participant.html", **view)
