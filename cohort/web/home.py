"""The signed-in user's home page: what waits for them, counted by the services, each count a
link to the list it counts; and their in-app messages (alerts, follow-up digests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, g, redirect, render_template, url_for

from cohort import clock
from cohort.actors import Actor, Role
from cohort.auth import ALL_ROLES, allow
from cohort.domain.followup import AlertStatus, CheckState
from cohort.request_db import session, transaction
from cohort.services import dashboard, followups, notify
from cohort.web.blueprint import bp

INBOX_SIZE = 10


@bp.app_template_global("page_url")
def page_url(endpoint: str, **values: Any) -> str | None:
    """The URL of a page, or None while that page does not exist (built by another module)."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


@dataclass(frozen=True)
class Count:
    label: str
    value: int
    url: str | None
    tone: str = "info"  # badge-… class: ok, attention, alerte, info


def _worklist_counts(actor: Actor) -> list[Count]:
    states = followups.state_counts(session(), actor, {}, today=clock.today())
    return [
        Count("Suivis à 6 mois à réaliser", states[CheckState.DUE],
              page_url("web.worklist", etat=CheckState.DUE.value), "attention"),
        Count("Suivis à 6 mois en retard", states[CheckState.OVERDUE],
              page_url("web.worklist", etat=CheckState.OVERDUE.value), "alerte"),
    ]


def _alert_counts(actor: Actor) -> list[Count]:
    counts = dashboard.alert_counts(session(), actor)
    return [
        Count("Alertes ouvertes", counts[AlertStatus.OPEN],
              page_url("web.alerts", statut=AlertStatus.OPEN.value), "alerte"),
        Count("Alertes prises en compte", counts[AlertStatus.ACKNOWLEDGED],
              page_url("web.alerts", statut=AlertStatus.ACKNOWLEDGED.value), "attention"),
    ]


def counts_for(actor: Actor) -> list[Count]:
    """The counts that make sense for the role (services scope them)."""
    if actor.role is Role.COORDINATOR and actor.structure_id is not None:
        followed = dashboard.followed_count(session(), actor.structure_id)
        return [Count("Personnes suivies (accompagnement en cours)", followed,
                      page_url("web.caseload_list")),
                *_worklist_counts(actor)]
    if actor.role is Role.ASE_REFERENT:
        return _alert_counts(actor)
    if actor.role is Role.ADMIN:
        return [*_worklist_counts(actor), *_alert_counts(actor)]
    return []


# Pages each role starts from (left out while missing).
SHORTCUTS: dict[Role, list[tuple[str, str]]] = {
    Role.COORDINATOR: [("web.data_quality_page", "Qualité des données")],
    Role.EVALUATOR: [("web.indicators", "Indicateurs par action"),
                     ("web.cohorts", "Cohortes"), ("web.reports", "Rapports à télécharger")],
    Role.PILOT: [("web.indicators", "Indicateurs par action"),
                 ("web.cohorts", "Cohortes"), ("web.reports", "Rapport d'exécution")],
    Role.ADMIN: [("web.admin_home", "Administration"),
                 ("web.indicators", "Indicateurs par action")],
}


@bp.route("/")
@allow(*ALL_ROLES)
def home() -> Any:
    actor: Actor = g.actor
    s = session()
    shortcuts = [(url, label) for endpoint, label in SHORTCUTS.get(actor.role, [])
                 if (url := page_url(endpoint)) is not None]
    messages = notify.notification_views(
        s, s.execute(notify.inbox_query(actor).limit(INBOX_SIZE)).scalars().all())
    return render_template("home.html", actor=actor, counts=counts_for(actor),
                           shortcuts=shortcuts, messages=messages,
                           unread=dashboard.unread_count(s, actor))


@bp.route("/messages/<uuid:notification_id>/lu", methods=["POST"])
@allow(*ALL_ROLES)
def message_read(notification_id: Any) -> Any:
    """Mark one of one's messages read (someone else's answers 404)."""
    with transaction() as s:
        notify.mark_read(s, g.actor, notification_id, now=clock.now())
    flash("Message marqué comme lu.", "succes")
    return redirect(url_for("web.home") + "#messages")
