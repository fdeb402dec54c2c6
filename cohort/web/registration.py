"""Pages: find a followed person, or register one after the possible-duplicates check.

Registering goes in two steps when the identity looks like someone already registered
(docs/duplicates.md): the candidates the structure follows are shown (pick one, or
confirm a new person); a close record followed elsewhere is only mentioned, and the
coordinator may register anyway and ask an administrator to link the two (a link
request, whose other record stays on the server). A NIR held by another record offers
the same: register without it and request the link to its holder. Identity values only
travel in POST bodies (hidden fields of the second step) and in the response asked for.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from cohort import clock
from cohort.actors import Role
from cohort.auth import allow
from cohort.errors import CohortError, NotFound
from cohort.request_db import keyring, session, transaction
from cohort.schemas.link_requests import RegistrationChoiceSchema
from cohort.schemas.participants import RegisterSchema, SearchSchema
from cohort.services import lifecycle, link_requests, participants, registration
from cohort.shell.limits import limited
from cohort.web.blueprint import bp
from cohort.web.forms import FormState, load, submitted

PERSON_ROLES = (Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)
WRITER_ROLES = (Role.COORDINATOR, Role.ADMIN)
CHOICE_FIELDS = ("decision", "reason")


def _render(template: str, status: int = 200, **context: Any) -> Any:
    context.setdefault("may_write", g.actor.role in WRITER_ROLES)
    return render_template(f"coordination/{template}", **context), status


@bp.route("/personnes", methods=["GET", "POST"])
@allow(*PERSON_ROLES)
@limited("lookup")
def participant_search() -> Any:
    """Find a followed person by identity (blind index); the identity stays in the body."""
    search = FormState()
    if request.method == "POST":
        data, search = load(SearchSchema(), submitted())
        if data is not None:
            try:
                found = lifecycle.find_by_identity(session(), keyring(), g.actor, data,
                                                   now=clock.now())
            except NotFound:
                search.message = ("Aucune personne suivie par votre structure ne correspond "
                                  "à ces nom, prénom(s) et date de naissance.")
                return _render("search.html", 404, search=search, register=FormState())
            return redirect(url_for("web.participant", participant_id=found.uuid))
        return _render("search.html", 422, search=search, register=FormState())
    return _render("search.html", search=search, register=FormState())


@bp.route("/personnes/inscription", methods=["POST"])
@allow(*WRITER_ROLES)
@limited("lookup")
def participant_register() -> Any:
    """Register a person: first the possible duplicates, then the coordinator's choice."""
    form = submitted(booleans=("ase_past",))
    choice_form = {key: form.pop(key) for key in CHOICE_FIELDS if key in form}
    data, state = load(RegisterSchema(), form)
    if data is None:
        return _render("search.html", 422, search=FormState(), register=state)
    choice, choice_state = load(RegistrationChoiceSchema(), choice_form)
    if choice is None:
        return _suggestions_page(data, state, choice_state, 422)
    decision = choice["decision"]
    if decision == "check":
        try:
            with transaction() as s:
                found = registration.suggestions(s, keyring(), g.actor, data, now=clock.now())
        except CohortError as error:
            return _render("search.html", 422, search=FormState(), register=state.refuse(error))
        if found.any:
            return _render("possible_duplicates.html", found=found, values=state.values,
                           choice=FormState())
    if decision in ("request", "nir_request"):
        return _register_and_request(data, state, choice_state, choice)
    return _register(data, state, choice_state)


def _register(data: dict[str, Any], state: FormState, choice_state: FormState) -> Any:
    try:
        with transaction() as s:
            result = participants.register(s, keyring(), g.actor, data, today=clock.today(),
                                           now=clock.now())
            participant_uuid = result.participant.uuid
    except CohortError as error:
        if "nir" in error.errors and error.status == 409:
            return _suggestions_page(data, state, choice_state, 409)
        return _render("search.html", 422, search=FormState(), register=state.refuse(error))
    if not result.visible:
        # Followed by another structure: say "already known", nothing of their record.
        return _render("already_known.html", participant_id=participant_uuid)
    if result.created:
        flash("La personne est enregistrée. Inscrivez-la maintenant dans une action.", "succes")
    else:
        flash("Cette personne est déjà suivie par votre structure : voici sa fiche.", "info")
    return redirect(url_for("web.participant", participant_id=participant_uuid))


def _register_and_request(data: dict[str, Any], state: FormState, choice_state: FormState,
                          choice: dict[str, Any]) -> Any:
    """Register (without the NIR when another record holds it) and file the link request,
    in one unit of work: a refused request registers nobody."""
    nir = data["nir"] if choice["decision"] == "nir_request" else None
    try:
        with transaction() as s:
            identity = (data | {"nir": None}) if nir else data
            result = participants.register(s, keyring(), g.actor, identity,
                                           today=clock.today(), now=clock.now())
            if not result.created:
                participant_uuid, visible = result.participant.uuid, result.visible
            else:
                link_requests.file_request(s, keyring(), g.actor, result.participant,
                                           reason=choice["reason"] or "", nir=nir,
                                           now=clock.now())
                participant_uuid, visible = result.participant.uuid, True
    except CohortError as error:
        return _suggestions_page(data, state, choice_state.refuse(error), 422)
    if not result.created:
        if not visible:
            return _render("already_known.html", participant_id=participant_uuid)
        return redirect(url_for("web.participant", participant_id=participant_uuid))
    return _render("link_request_sent.html", participant_id=participant_uuid)


def _suggestions_page(data: dict[str, Any], state: FormState, choice: FormState,
                      status: int) -> Any:
    """The second step again (after a refused choice): the suggestions recomputed."""
    try:
        with transaction() as s:
            found = registration.suggestions(s, keyring(), g.actor, data, now=clock.now())
    except CohortError as error:
        return _render("search.html", 422, search=FormState(), register=state.refuse(error))
    return _render("possible_duplicates.html", status, found=found, values=state.values,
                   choice=choice)
