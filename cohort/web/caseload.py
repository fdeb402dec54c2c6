"""The caseload page ("File active"): the people the structure follows, filtered by a GET
form (filters are not identities), searched by name through a POST (the typed text stays
in the body: a small script posts it as JSON while one types, and the form posts it
without JavaScript). The list is the API's (`services.caseload`), audited once per view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import g, render_template, request
from marshmallow import ValidationError

from cohort import clock
from cohort.actors import Role
from cohort.auth import allow
from cohort.domain.enums import Family
from cohort.errors import Rejected
from cohort.request_db import keyring, session, transaction
from cohort.schemas.caseload import CaseloadArgs
from cohort.services import caseload
from cohort.web.blueprint import bp
from cohort.web.labels import choices
from cohort.web.messages import french_errors

# The page's parameter (French, in the URL) → the service's filter.
PARAMS = {"action": "action_id", "accompagnement": "enrolment", "suivi": "followup",
          "periode": "open_period", "sans_evenement": "inactive_days", "tri": "sort",
          "page": "page"}
SEARCH_FIELD = "q"
SORT_LABELS = {"name": "Nom (A → Z)", "-name": "Nom (Z → A)",
               "-last_event": "Dernier événement (récent d'abord)",
               "last_event": "Dernier événement (ancien d'abord)",
               "due_date": "Prochain suivi (le plus proche d'abord)",
               "-due_date": "Prochain suivi (le plus lointain d'abord)"}
ENROLMENT_LABELS = [("open", "En cours"), ("ended", "Terminé")]
FOLLOWUP_LABELS = [("due", "À réaliser"), ("overdue", "En retard")]
STATE_TONES = {"upcoming": "info", "due": "attention", "overdue": "alerte"}


def _filters(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str], bool]:
    """The service's filters from the page's parameters; a value the schema refuses is
    dropped (and said), the others apply. Also the parameters kept, for the links."""
    data = {PARAMS[k]: str(v).strip() for k, v in raw.items()
            if k in PARAMS and str(v).strip() != ""}
    ignored = False
    schema = CaseloadArgs()
    while True:
        try:
            loaded = schema.load(data)
            break
        except ValidationError as error:
            bad = error.messages if isinstance(error.messages, dict) else {}
            kept = {k: v for k, v in data.items() if k not in bad}
            data = kept if len(kept) < len(data) else {}
            ignored = True
    back = {param: data[key] for param, key in PARAMS.items()
            if key in data and param != "page"}
    return loaded, back, ignored


def _render(found: caseload.CaseloadPage | None, kept: dict[str, str], *, ignored: bool,
            searched: bool, error: str | None = None, status: int = 200,
            fragment: bool = False) -> Any:
    context = {"found": found, "kept": kept, "searched": searched, "error": error,
               "tones": STATE_TONES, "today": clock.today()}
    if fragment:
        return render_template("caseload/_table.html", **context), status
    actions = caseload.caseload_actions(session(), g.actor)
    return render_template(
        "caseload/list.html", **context, ignored=ignored,
        action_options=[(str(a["id"]), f"{a['code']} — {a['title']}") for a in actions],
        enrolment_options=ENROLMENT_LABELS, followup_options=FOLLOWUP_LABELS,
        period_options=choices(Family), sort_options=list(SORT_LABELS.items())), status


def _read(filters: dict[str, Any], kept: dict[str, str], search: str | None = None
          ) -> tuple[caseload.CaseloadPage, bool]:
    """The service's page; a filter it refuses (an action that does not exist) is
    dropped like one the schema refuses. A refused search text is the caller's."""
    try:
        with transaction() as s:
            return caseload.caseload(s, keyring(), g.actor, filters, today=clock.today(),
                                     now=clock.now(), search=search), False
    except Rejected as refusal:
        if refusal.field not in filters:
            raise
        filters.pop(refusal.field)
        for param, key in PARAMS.items():
            if key == refusal.field:
                kept.pop(param, None)
        return _read(filters, kept, search)[0], True


@bp.route("/file-active")
@allow(Role.COORDINATOR)
def caseload_list() -> Any:
    """The structure's caseload, filtered and sorted by the GET form."""
    filters, kept, ignored = _filters(request.args)
    found, dropped = _read(filters, kept)
    return _render(found, kept, ignored=ignored or dropped, searched=False)


@bp.route("/file-active/recherche", methods=["POST"])
@allow(Role.COORDINATOR)
def caseload_search() -> Any:
    """Search the caseload by name. A JSON body (the page's script) answers the table
    alone; a posted form (no JavaScript) the whole page. An empty text lists the caseload."""
    fragment = request.is_json
    raw = request.get_json(silent=True) if fragment else request.form
    if not isinstance(raw, Mapping):
        raw = {}
    filters, kept, ignored = _filters(raw)
    text = str(raw.get(SEARCH_FIELD) or "")
    search = text if text.strip() else None
    try:
        found, dropped = _read(filters, kept, search)
    except Rejected as refusal:
        message = " ".join(french_errors(refusal.errors).get(refusal.field, []))
        return _render(None, kept, ignored=ignored, searched=True, error=message, status=422,
                       fragment=fragment)
    return _render(found, kept, ignored=ignored or dropped, searched=search is not None,
                   fragment=fragment)
