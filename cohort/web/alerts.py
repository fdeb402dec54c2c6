"""The ASE referents' alerts inbox: an ASE youth's support break or overdue check, to take in
hand (acknowledge) and then close with a note saying what was done.

The list and the two actions are the API's (`alerts.alert_query`, `alert_views`,
`acknowledge`, `close`), scoped by the service to the referent's département: another
département's alert answers 404. The version read travels as a hidden field.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from cohort import audit, clock
from cohort.actors import Role
from cohort.auth import allow
from cohort.domain.followup import LABELS_FR, AlertStatus
from cohort.errors import Conflict, Rejected
from cohort.request_db import session, transaction
from cohort.schemas.followups import AcknowledgeSchema, CloseSchema
from cohort.services import alerts, dashboard
from cohort.shell.pagination import paginate
from cohort.web.blueprint import bp
from cohort.web.forms import FormState, load, submitted

STATUS_PARAM = "statut"
ALL = "all"
TABS = [AlertStatus.OPEN.value, AlertStatus.ACKNOWLEDGED.value, AlertStatus.CLOSED.value, ALL]
TAB_LABELS = {AlertStatus.OPEN.value: "Ouvertes",
              AlertStatus.ACKNOWLEDGED.value: "Prises en compte",
              AlertStatus.CLOSED.value: "Clôturées", ALL: "Toutes"}
STATUS_TONES = {AlertStatus.OPEN.value: "alerte", AlertStatus.ACKNOWLEDGED.value: "attention",
                AlertStatus.CLOSED.value: "ok"}
CHANGED_MEANWHILE = ("Quelqu'un d'autre a traité cette alerte entre-temps : "
                     "rechargez la page pour voir son état.")


def _tab(value: str | None) -> tuple[str, bool]:
    """The tab asked for (open when absent), and whether an unknown one was ignored."""
    if value is None or value == "":
        return AlertStatus.OPEN.value, False
    if value in TABS:
        return value, False
    return AlertStatus.OPEN.value, True


def _render(tab: str, *, ignored: bool = False, states: dict[str, FormState] | None = None,
            message: str | None = None, status: int = 200) -> Any:
    actor, s = g.actor, session()
    page_number = request.args.get("page", "1")
    number = int(page_number) if page_number.isdigit() and 0 < int(page_number) < 10**6 else 1
    filters = {"status": None if tab == ALL else [tab]}
    with transaction() as t:
        page = paginate(t, alerts.alert_query(actor, filters), {"page": number})
        items = alerts.alert_views(t, page["items"])
        if actor.role is Role.ADMIN:
            audit.append(t, actor, "alert.list", now=clock.now(), target_type="alert")
    counts = dashboard.alert_counts(s, actor)
    tabs = [(code, TAB_LABELS[code], sum(counts.values()) if code == ALL else counts[code])
            for code in TABS]
    return render_template("alerts/list.html", items=items, tabs=tabs, tab=tab,
                           tab_label=TAB_LABELS[tab], page=page["page"], ignored=ignored,
                           states=states or {}, message=message, tones=STATUS_TONES,
                           ALL=ALL), status


@bp.route("/alertes", endpoint="alerts")
@allow(Role.ASE_REFERENT, Role.ADMIN)
def inbox() -> Any:
    """The alerts of one's département, newest first, by status."""
    tab, ignored = _tab(request.args.get(STATUS_PARAM))
    return _render(tab, ignored=ignored)


def _back() -> str:
    """The tab the form was posted from (the hidden `retour` field), open otherwise."""
    tab, _ = _tab(request.form.get("retour"))
    return tab


def _handle(alert_id: Any, action: str) -> Any:
    """Acknowledge or close through the service; refusals shown next to that alert."""
    fields = {k: v for k, v in submitted().items() if k != "retour"}
    schema = AcknowledgeSchema() if action == "acknowledge" else CloseSchema()
    data, state = load(schema, fields)
    key = str(alert_id)
    if data is None:
        return _render(_back(), states={key: state}, status=422)
    try:
        with transaction() as s:
            if action == "acknowledge":
                alerts.acknowledge(s, g.actor, alert_id, data, now=clock.now())
            else:
                alerts.close(s, g.actor, alert_id, data, now=clock.now())
    except Conflict:
        # The alert may have left the tab: the message goes above the list.
        return _render(_back(), message=CHANGED_MEANWHILE, status=409)
    except Rejected as error:
        return _render(_back(), states={key: state.refuse(error)}, status=422)
    done = AlertStatus.ACKNOWLEDGED if action == "acknowledge" else AlertStatus.CLOSED
    flash(f"Alerte {LABELS_FR[done].lower()}.", "succes")
    return redirect(url_for("web.alerts", statut=_back()))


@bp.route("/alertes/<uuid:alert_id>/prise-en-compte", methods=["POST"])
@allow(Role.ASE_REFERENT, Role.ADMIN)
def alert_acknowledge(alert_id: Any) -> Any:
    """Take an open alert in hand."""
    return _handle(alert_id, "acknowledge")


@bp.route("/alertes/<uuid:alert_id>/cloture", methods=["POST"])
@allow(Role.ASE_REFERENT, Role.ADMIN)
def alert_close(alert_id: Any) -> Any:
    """Close an alert with a note saying what was done."""
    return _handle(alert_id, "close")
