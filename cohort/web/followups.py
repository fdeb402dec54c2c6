"""Six-month follow-up checks: the structure's worklist and the form recording one result.

The worklist is the API's (`followups.worklist_query`, `state_counts`, `check_views`); the
form posts what `POST /api/v1/followups/<id>/result` takes, validated by the same
`ResultSchema`, with the version read as a hidden field so that a second writer is told.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from cohort import clock
from cohort.actors import Role
from cohort.auth import allow
from cohort.domain.followup import LABELS_FR, CheckState, Outcome
from cohort.errors import Conflict, Rejected
from cohort.request_db import keyring, session, transaction
from cohort.schemas.followups import ResultSchema
from cohort.services import followups
from cohort.shell.pagination import paginate
from cohort.web.blueprint import bp
from cohort.web.forms import FormState, submitted
from cohort.web.messages import french_errors

STATE_PARAM = "etat"
STATE_TONES = {CheckState.UPCOMING: "info", CheckState.DUE: "attention",
               CheckState.OVERDUE: "alerte", CheckState.DONE: "ok", CheckState.CANCELLED: ""}
ALL_BUT_CANCELLED = [s for s in CheckState if s is not CheckState.CANCELLED]
NONE = "none"  # the option saying "not in it" (null in the API), as opposed to "not asked"

RECORDED_BY_SOMEONE_ELSE = ("Quelqu'un d'autre a enregistré ce suivi entre-temps : "
                            "rechargez la page pour voir le résultat enregistré.")
CANCELLED_MEANWHILE = "Ce suivi a été annulé entre-temps : il n'y a plus rien à saisir."
INVALID = "Le formulaire contient des erreurs : voir les champs signalés."


def _page_number() -> tuple[int, bool]:
    """The requested page (1 when absent or invalid) and whether it was invalid."""
    raw = request.args.get("page")
    if raw is None:
        return 1, False
    if raw.isdigit() and 1 <= int(raw) <= 1_000_000:
        return int(raw), False
    return 1, True


@bp.route("/suivis")
@allow(Role.COORDINATOR, Role.ADMIN)
def worklist() -> Any:
    """The structure's checks, by state, with the counts of every state."""
    actor, s, today = g.actor, session(), clock.today()
    requested = request.args.getlist(STATE_PARAM)
    known = {state.value for state in CheckState}
    states = [value for value in dict.fromkeys(requested) if value in known]
    page_number, bad_page = _page_number()
    ignored = bad_page or len(states) != len(set(requested))
    page = paginate(s, followups.worklist_query(actor, {"state": states or None}, today=today),
                    {"page": page_number})
    items = followups.check_views(s, page["items"], today=today)
    counts = followups.state_counts(s, actor, {}, today=today)
    tabs = [(None, "Tous (hors annulés)", sum(counts[st] for st in ALL_BUT_CANCELLED))]
    tabs += [(st.value, LABELS_FR[st], counts[st]) for st in CheckState]
    selected = states[0] if len(states) == 1 else None
    if states and selected is None:
        title = ", ".join(LABELS_FR[CheckState(st)].lower() for st in states)
    else:
        title = LABELS_FR[CheckState(selected)].lower() if selected else "tous sauf annulés"
    return render_template(
        "followups/worklist.html", items=items, tabs=tabs, selected=selected, states=states,
        filtered=bool(states), title=title, page=page["page"], today=today, ignored=ignored,
        tones=STATE_TONES)


# --- the check form --------------------------------------------------------------------------

def _situation(raw: dict[str, Any], resources: list[str],
               errors: dict[str, list[str]]) -> dict[str, Any]:
    """The situation as the API takes it: a key left out was not asked; NONE says "no"."""
    situation: dict[str, Any] = {}
    contract = raw.get("employment_contract")
    if contract == NONE:
        situation["employment"] = None
    elif contract:
        job: dict[str, Any] = {"contract": contract}
        if raw.get("employment_planned_months"):
            job["planned_months"] = raw["employment_planned_months"]
        if raw.get("employment_hours"):
            job["hours_per_week"] = raw["employment_hours"].replace(",", ".")
        situation["employment"] = job
    training = raw.get("training")
    if training == NONE:
        situation["training"] = None
    elif training in ("qualifying", "not_qualifying"):
        situation["training"] = {"qualifying": training == "qualifying"}
    elif training:
        situation["training"] = {"qualifying": training}  # refused by the schema
    if raw.get("school"):
        situation["school"] = {"yes": True, NONE: False}.get(raw["school"], raw["school"])
    if raw.get("scheme"):
        situation["scheme"] = None if raw["scheme"] == NONE else raw["scheme"]
    if raw.get("housing_type"):
        situation["housing_type"] = raw["housing_type"]
    if NONE in resources and len(resources) > 1:
        errors["resources"] = ["Cochez « Aucune ressource » seule, ou les ressources perçues."]
    elif resources:
        situation["resources"] = [] if resources == [NONE] else resources
    return situation


_SUBFIELDS = {"planned_months": "employment_planned_months", "hours_per_week": "employment_hours"}


def _form_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    """ResultSchema's messages keyed by the form's own field names, in French."""
    flat: dict[str, Any] = {}
    for name, value in messages.items():
        if name != "situation" or not isinstance(value, dict):
            flat[name] = value
            continue
        for key, inner in value.items():
            if key == "employment" and isinstance(inner, dict):
                for sub, leaf in inner.items():
                    flat.setdefault(_SUBFIELDS.get(sub, "employment_contract"), []).append(leaf)
            elif key == "employment":
                flat["employment_contract"] = inner
            elif key in ("training", "school", "scheme", "housing_type", "resources"):
                flat[key] = inner
            else:
                flat.setdefault("situation", []).append(inner)
    return french_errors(flat)


def load_result() -> tuple[dict[str, Any] | None, FormState]:
    """The posted result, validated by the API's ResultSchema (French errors by field)."""
    raw = submitted()
    resources = [r for r in request.form.getlist("resources") if r]
    state = FormState(values={**raw, "resources": resources})
    errors: dict[str, list[str]] = {}
    data = {key: raw[key] for key in ("expected_version", "date", "outcome", "attempts")
            if key in raw}
    situation = _situation(raw, resources, errors)
    if situation:
        data["situation"] = situation
    try:
        loaded = ResultSchema().load(data)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
        errors.update(_form_errors(messages))
        loaded = None
    if errors:
        state.errors = errors
        state.message = INVALID
        return None, state
    return loaded, state


@bp.route("/suivis/<uuid:check_id>", methods=["GET", "POST"])
@allow(Role.COORDINATOR, Role.ADMIN)
def check(check_id: Any) -> Any:
    """One check: its window, and the form recording its result (or the result recorded)."""
    actor, s, today = g.actor, session(), clock.today()
    record = followups.readable_check(s, actor, check_id)
    state = FormState(values={"date": today.isoformat(), "expected_version": record.version})
    status = 200
    if request.method == "POST":
        data, state = load_result()
        status = 422
        if data is not None:
            try:
                with transaction() as t:
                    followups.record_result(t, keyring(), actor, check_id, data, today=today,
                                            now=clock.now())
            except Conflict as error:
                state.message = (CANCELLED_MEANWHILE if "check_id" in error.errors
                                 else RECORDED_BY_SOMEONE_ELSE)
                status = 409
            except Rejected as error:
                state.refuse(error)
            else:
                flash(f"Suivi à 6 mois enregistré : {LABELS_FR[Outcome(data['outcome'])]}.",
                      "succes")
                return redirect(url_for("web.worklist"))
        record = followups.readable_check(s, actor, check_id)
    view = followups.check_views(s, [record], today=today)[0]
    return render_template("followups/check.html", check=view, state=state, today=today,
                           tones=STATE_TONES, NONE=NONE), status
