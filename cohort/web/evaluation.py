"""Pages: evaluation — indicators, cohort tables and the execution report (domain.md §7-8).

Evaluators, pilots and administrators read here what GET /api/v1/indicators, /cohorts and
/reports give them: the pickers are parsed with the API's schemas (cohort.schemas) and the
figures come from the same services (cohort.indicators.queries, cohort.report.model), so the
pages show the API's numbers and refuse what it refuses — in French, next to the picker.
Forms are GET (reading only; the query is the page's address), so they carry no CSRF token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, render_template, request, url_for

from cohort import clock
from cohort.actors import Role
from cohort.auth import allow, current_actor
from cohort.deadline import statement_deadline
from cohort.errors import CohortError, Forbidden
from cohort.indicators import queries
from cohort.indicators.cohorts import HORIZONS, STATUS_COLUMNS
from cohort.reference import all_programmes
from cohort.report import model as report_model
from cohort.report import svg
from cohort.report.output import render
from cohort.request_db import reading, session, transaction
from cohort.schemas.aggregates import CohortArgs, IndicatorArgs
from cohort.schemas.common import StrictSchema
from cohort.schemas.reports import ReportPageArgs
from cohort.shell.errors import audit_refusal
from cohort.web import forms
from cohort.web.blueprint import bp
from cohort.web.labels import INDICATOR_PARTS

AGGREGATE_ROLES = (Role.EVALUATOR, Role.PILOT, Role.ADMIN)
DEPARTEMENTS = [("62", "Pas-de-Calais (62)"), ("59", "Nord (59)"),
                ("joint", "Actions communes aux deux départements")]
MODES = {"published": "Publié (secret statistique)",
         "internal": "Interne (effectifs exacts)"}
GRAINS = [("month", "Par mois"), ("quarter", "Par trimestre"), ("year", "Par année")]
HORIZON_LABELS = report_model.HORIZON_LABELS
STATUS_LABELS = {"in_pathway": "En parcours", "durable_employment": "En emploi durable",
                 "stably_housed": "Logé·e de façon stable", "has_resources": "Avec des ressources"}
# Report formats: (format, link text); the order of the links on the page.
REPORT_LINKS = [("html", "Télécharger le rapport (HTML, à lire ou imprimer)"),
                ("xlsx", "Télécharger le rapport (XLSX, tableur)"),
                ("csv", "Télécharger les tableaux (CSV, archive zip)"),
                ("json", "Télécharger les données (JSON)")]
# Labels of the page-only names ("mode" means a contact mode elsewhere in the label map).
PAGE_LABELS = {"mode": "Mode", "population": "Action", "format": "Format"}


def _query_args(lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The query string without empty values (so defaults apply); named lists as lists."""
    data: dict[str, Any] = {}
    for key in request.args:
        if key in lists:
            values = [v.strip() for v in request.args.getlist(key) if v.strip()]
            if values:
                data[key] = values
        else:
            value = request.args.get(key, "").strip()
            if value:
                data[key] = value
    return data


def _run(schema: StrictSchema, data: dict[str, Any],
         call: Callable[[Any, dict[str, Any]], Any], *,
         reads_only: bool = False) -> tuple[Any, forms.FormState, int]:
    """Validate with the schema, call the service in the request's unit of work (or, for
    a service that only reads, in a read transaction); a refusal comes back as French
    errors next to the pickers (403 audited as the API does)."""
    args, state = forms.load(schema, data)
    if args is None:
        return None, state, 422
    try:
        with reading() if reads_only else transaction() as s, statement_deadline(
                s, current_app.config["AGGREGATE_TIMEOUT_SECONDS"]):
            return call(s, args), state, 200
    except CohortError as error:
        if isinstance(error, Forbidden):
            audit_refusal(error.message)
        state.refuse(error)
        return None, state, error.status if error.status in (403, 503) else 422


def _pickers(state: forms.FormState) -> dict[str, Any]:
    """What the pickers offer: programmes, the chosen programme's actions and years, the
    modes the role may use, and whole-month shortcuts for the period."""
    programmes = all_programmes(session())
    chosen = next((p for p in programmes if p.code == state.values.get("programme")),
                  programmes[0] if programmes else None)
    actor = current_actor()
    modes = (["published"] if actor.role is Role.EVALUATOR else ["published", "internal"])
    last_complete = clock.today().replace(day=1) - dt.timedelta(days=1)
    return {
        "programmes": [(p.code, f"{p.code} — {p.title}") for p in programmes],
        "programme": chosen,
        "actions": [(a.code, f"{a.code} — {a.title}") for a in (chosen.actions if chosen else [])],
        "years": ([(str(y), str(y))
                   for y in range(chosen.period_start.year, chosen.period_end.year + 1)]
                  if chosen else []),
        "modes": [(m, MODES[m]) for m in modes],
        "evaluator": actor.role is Role.EVALUATOR,
        "last_complete": last_complete,
        "shortcuts": _shortcuts(chosen, last_complete),
    }


def _shortcuts(programme: Any, last_complete: dt.date) -> list[tuple[str, str, str]]:
    """(label, from, to): the programme's years and quarters that have ended."""
    if programme is None:
        return []
    out = []
    for year in range(programme.period_start.year, programme.period_end.year + 1):
        if dt.date(year, 12, 31) <= last_complete:
            out.append((f"Année {year}", f"{year}-01-01", f"{year}-12-31"))
        for q, (start, end) in enumerate((("01-01", "03-31"), ("04-01", "06-30"),
                                          ("07-01", "09-30"), ("10-01", "12-31")), 1):
            if dt.date.fromisoformat(f"{year}-{end}") <= last_complete:
                out.append((f"{q}{'er' if q == 1 else 'e'} trimestre {year}",
                            f"{year}-{start}", f"{year}-{end}"))
    return out


def percent_fr(value: Any) -> str:
    """0.125 → 12,5 % (no-break space before the sign)."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}".replace(".", ",").removesuffix(",0") + "\u00a0%"


def _page(template: str, state: forms.FormState, status: int, **context: Any) -> Any:
    k = current_app.config["DISCLOSURE_K"]
    return render_template(
        template, state=state, pickers=_pickers(state), page_labels=PAGE_LABELS,
        departements=DEPARTEMENTS, percent=percent_fr, parts=INDICATOR_PARTS,
        k=k, rounding_base=current_app.config["DISCLOSURE_ROUNDING_BASE"],
        **context), status


@bp.route("/indicateurs")
@allow(*AGGREGATE_ROLES)
def indicators() -> Any:
    """An action's (or a département's) indicators, as GET /api/v1/indicators gives them."""
    data = _query_args()
    if not data:
        return _page("evaluation/indicators.html", forms.FormState(), 200, report=None)
    report, state, status = _run(IndicatorArgs(), data, lambda s, args: queries.indicators(
        s, g.actor, args, current_app.config, today=clock.today(), now=clock.now()))
    if "population" in state.errors:  # the chosen action's population: shown at its picker
        state.errors.setdefault("action", []).extend(state.errors.pop("population"))
    return _page("evaluation/indicators.html", state, status, report=report)


@bp.route("/cohortes")
@allow(*AGGREGATE_ROLES)
def cohorts() -> Any:
    """Cohort tables and a chart of outcome shares by horizon, as GET /api/v1/cohorts."""
    data = _query_args(lists=("actions",))
    if not data:
        return _page("evaluation/cohorts.html", forms.FormState(), 200, report=None,
                     grains=GRAINS)
    report, state, status = _run(CohortArgs(), data, lambda s, args: queries.cohorts(
        s, g.actor, args, current_app.config, today=clock.today(), now=clock.now()))
    return _page("evaluation/cohorts.html", state, status, report=report, grains=GRAINS,
                 horizons=HORIZON_LABELS, statuses=STATUS_LABELS,
                 charts=_charts(report["rows"]) if report else [])


def _charts(rows: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """One grouped-bar chart per cohort (the report's SVG); hidden shares are not drawn."""
    by_cohort: dict[str, list[tuple[str, list[tuple[str, float | None]]]]] = {}
    for row in sorted(rows, key=lambda r: (r["cohort"], HORIZONS.index(r["horizon"]))):
        by_cohort.setdefault(row["cohort"], []).append((
            HORIZON_LABELS[row["horizon"]],
            [(STATUS_LABELS[c].lower(), row["shares"][c]) for c in STATUS_COLUMNS]))
    return [(cohort, svg.share_bars(groups, ident=f"cohorte-{i}",
                                    title=f"Cohorte {cohort} : part des personnes dont la "
                                          "situation est connue, par horizon"))
            for i, (cohort, groups) in enumerate(sorted(by_cohort.items()))]


@bp.route("/rapports")
@allow(*AGGREGATE_ROLES)
def reports() -> Any:
    """Choose a report; the links download it in each format (see report_download)."""
    data = _query_args()
    links: list[tuple[str, str]] = []
    status = 200
    state = forms.FormState(values=dict(data))
    if data:
        args, state = forms.load(ReportPageArgs(), data)
        if args is None:
            status = 422
        else:
            links = [(url_for("web.report_download", **{**data, "format": fmt}), text)
                     for fmt, text in REPORT_LINKS]
    return _report_page(state, status, links)


def _report_page(state: forms.FormState, status: int, links: list[tuple[str, str]]) -> Any:
    return _page("evaluation/reports.html", state, status, links=links)


@bp.route("/rapports/telecharger")
@allow(*AGGREGATE_ROLES)
def report_download() -> Any:
    """The execution report file, built and audited as GET /api/v1/reports/... does."""
    data = _query_args()

    def build(s: Any, args: dict[str, Any]) -> Any:
        return report_model.build(s, current_actor(), args, current_app.config,
                                  today=clock.today()), args

    done, state, status = _run(ReportPageArgs(), data, build, reads_only=True)
    if done is None:
        return _report_page(state, status, [])
    built, head = done
    with transaction() as s:
        report_model.record_generation(s, current_actor(), built, fmt=head["format"],
                                       now=clock.now())
    rendered = render(built, head["format"])
    mode = "publie" if head["mode"] == "published" else "interne"
    extension = rendered.filename.rsplit(".", 1)[1]
    name = (f"rapport-execution-{head['programme']}-{head['departement']}-{head['year']}"
            f"-{mode}.{extension}")
    return Response(rendered.content, mimetype=rendered.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
