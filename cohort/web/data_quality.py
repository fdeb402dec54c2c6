""""Qualité des données": what needs attention in the structure's data, by kind, each line
linking to the person's page (the service's registry of kinds; the API's list)."""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request

from cohort import clock
from cohort.actors import Role
from cohort.auth import allow
from cohort.request_db import session
from cohort.services import data_quality
from cohort.web.blueprint import bp

PER_PAGE = 50
KIND_PARAM = "type"
# The date column of each kind (other kinds: "Date").
DATE_HEADINGS = {"stale_open_period": "Ouverte le", "followup_overdue": "Échéance du suivi",
                 "ended_without_exit_reason": "Sortie le",
                 "events_without_enrolment": "Dernier événement"}


@bp.route("/qualite-des-donnees")
@allow(Role.COORDINATOR, Role.ADMIN)
def data_quality_page() -> Any:
    """Counts per kind, then the lines: one page of each kind, or every page of one kind."""
    s, today = session(), clock.today()
    kind = request.args.get(KIND_PARAM)
    if kind not in data_quality.KINDS:
        kind = None
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 1 <= int(raw) <= 1_000_000 else 1
    groups = data_quality.report(s, g.actor, today=today, kind=kind,
                                 page=page if kind else 1, per_page=PER_PAGE)
    counts = ({gr.kind: gr.total for gr in groups} if kind is None
              else data_quality.counts(s, g.actor, today=today))
    return render_template(
        "data_quality/list.html", groups=groups, counts=counts, kinds=data_quality.KINDS,
        selected=kind, today=today, date_headings=DATE_HEADINGS, kind_param=KIND_PARAM,
        pages={gr.kind: max(1, -(-gr.total // gr.per_page)) for gr in groups})
