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
from cohort.indicators import codebook as codebook_rules
from cohort.indicators import exports, queries
from cohort.indicators.cohorts import HORIZONS, STATUS_COLUMNS
from cohort.reference import all_programmes
from cohort.report import model as report_model
from cohort.report import output, svg
from cohort.report.html import to_html_fragment
from cohort.report.output import render
from cohort.request_db import read_source, session, statistics, transaction
from cohort.schemas.aggregates import CodebookArgs, CohortArgs, IndicatorArgs
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
GRAINS = [("month", "Par mois"), ("quarter", "Par trimestre"), ("semester", "Par semestre"),
          ("year", "Par année"), ("all", "Toutes les entrées de la période réunies")]
# The table exports offered beside every table: (format, button text).
EXPORT_LINKS = [("csv-fr", "Tableur (CSV français)"),
                ("xlsx", "Classeur (XLSX, avec notes et dictionnaire)"),
                ("csv", "Données (CSV format long, pour logiciels)"),
                ("json", "Données (JSON)")]
HORIZON_LABELS = report_model.HORIZON_LABELS
STATUS_LABELS = {"in_pathway": "En parcours", "durable_employment": "En emploi durable",
                 "stably_housed": "Logé·e de façon stable", "has_resources": "Avec des ressources"}
# Report formats: (format, link text); the order of the links on the page.
REPORT_LINKS = [("html", "Télécharger le rapport (HTML, à lire ou imprimer)"),
                ("xlsx", "Télécharger le rapport (XLSX, tableur)"),
                ("csv", "Télécharger les tableaux (CSV pour tableur français, archive zip)"),
                ("csv-long", "Télécharger les données (CSV format long, pour logiciels)"),
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
         call: Callable[[Any, Any, dict[str, Any]], Any], *,
         reads_only: bool = False) -> tuple[Any, forms.FormState, int]:
    """Validate with the schema, call the service with the sessions of
    ``request_db.statistics``: it reads on the read replica when there is one, and writes
    its audit entries in the request's unit of work on the primary (None for a service
    that only reads); a refusal comes back as French errors next to the pickers (403
    audited as the API does)."""
    args, state = forms.load(schema, data)
    if args is None:
        return None, state, 422
    try:
        with statistics(audited=not reads_only) as (s, writes), statement_deadline(
                s, current_app.config["AGGREGATE_TIMEOUT_SECONDS"]):
            return call(s, writes, args), state, 200
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
        read_source=read_source(), **context), status


@bp.route("/indicateurs")
@allow(*AGGREGATE_ROLES)
def indicators() -> Any:
    """An action's (or a département's) indicators, as GET /api/v1/indicators gives them."""
    data = _query_args()
    if not data:
        return _page("evaluation/indicators.html", forms.FormState(), 200, report=None)
    done, state, status = _run(IndicatorArgs(), data, _with_export(
        queries.indicators, exports.indicator_export))
    if "population" in state.errors:  # the chosen action's population: shown at its picker
        state.errors.setdefault("action", []).extend(state.errors.pop("population"))
    report, export = done or (None, None)
    if export is not None:
        return _download(export, data["format"])
    return _page("evaluation/indicators.html", state, status, report=report,
                 exports=_export_links("web.indicators", state) if report else [],
                 capacity=codebook_rules.capacity_fr, no_target=codebook_rules.NO_TARGET_FR)


def _with_export(query: Callable[..., dict[str, Any]],
                 export_of: Callable[..., exports.Export]
                 ) -> Callable[[Any, Any, dict[str, Any]], Any]:
    """The query as the API runs it (audited with its format), and, when a file is asked
    for, the export built from its published answer with the programme's codebook."""
    def call(s: Any, writes: Any,
             args: dict[str, Any]) -> tuple[dict[str, Any], exports.Export | None]:
        report = query(s, g.actor, args, current_app.config, today=clock.today(),
                       now=clock.now(), audit_session=writes)
        if args.get("format") is None:  # the page itself
            return report, None
        book = queries.codebook(s, args["programme"], current_app.config, mode=report["mode"])
        return report, export_of(report, args, book)
    return call


def _download(export: exports.Export, fmt: str) -> Response:
    rendered = exports.render(export, fmt)
    return Response(rendered.content, mimetype=rendered.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{rendered.filename}"'})


def _export_links(endpoint: str, state: forms.FormState) -> list[tuple[str, str]]:
    values = {k: v for k, v in state.values.items() if k != "format" and v not in ("", None)}
    return [(url_for(endpoint, **values, format=fmt), text) for fmt, text in EXPORT_LINKS]


@bp.route("/cohortes")
@allow(*AGGREGATE_ROLES)
def cohorts() -> Any:
    """Cohort tables and a chart of outcome shares by horizon, as GET /api/v1/cohorts."""
    data = _query_args(lists=("actions",))
    if not data:
        return _page("evaluation/cohorts.html", forms.FormState(), 200, report=None,
                     grains=GRAINS)
    exported = _with_export(queries.cohorts, exports.cohort_export)

    def call(s: Any, writes: Any, args: dict[str, Any]) -> Any:
        report, export = exported(s, writes, args)
        preview, poolings = None, []
        if export is None and report["mode"] == "published":
            preview = queries.suppression_preview(s, g.actor, args, current_app.config,
                                                  today=clock.today())
        if export is None:
            poolings = queries.pooling_preview(s, g.actor, args, current_app.config,
                                               today=clock.today())
        return report, export, preview, poolings

    done, state, status = _run(CohortArgs(), data, call)
    report, export, preview, poolings = done or (None, None, None, [])
    if export is not None:
        return _download(export, data["format"])
    return _page("evaluation/cohorts.html", state, status, report=report, grains=GRAINS,
                 horizons=HORIZON_LABELS, statuses=STATUS_LABELS, preview=preview,
                 poolings=[{**p, "href": _pooling_link(state, p)} for p in poolings],
                 pooling_refusals=POOLING_REFUSALS, grain_labels=dict(GRAINS),
                 preview_links={g_: url_for("web.cohorts", **{
                     **{k: v for k, v in state.values.items() if v not in ("", None)},
                     "grain": g_}) for g_, _ in GRAINS},
                 exports=_export_links("web.cohorts", state) if report else [],
                 charts=_charts(report["rows"]) if report else {})


# Why a pooled choice is unavailable, by the refused field of its cut.
POOLING_REFUSALS = {
    "period_from": "en mode publié, la période commence le premier jour d'un mois",
    "period_to": "en mode publié, la période finit le dernier jour d'un mois (et ne dépasse "
                 "pas la durée maximale du regroupement choisi)",
    "as_of": "en mode publié, la date d'arrêté est la fin d'un mois complet",
}


def _pooling_link(state: forms.FormState, pooling: dict[str, Any]) -> str:
    """The cohorts page for a pooled choice: its actions and mode, every département."""
    values = {k: v for k, v in state.values.items()
              if k not in ("format", "departement", "actions", "mode", "as_of")
              and v not in ("", None)}
    if pooling["as_of"] is not None:
        values["as_of"] = pooling["as_of"].isoformat()
    return url_for("web.cohorts", **values, actions=pooling["actions"], mode=pooling["mode"])


SERIES = [*STATUS_COLUMNS, "known"]


def _share(row: dict[str, Any], column: str) -> float | None:
    """A row's share as the table shows it (None when hidden or undefined)."""
    hidden = row["suppressed"]
    if column == "known":
        unknown = row["shares"]["unknown"]
        return None if "known|share" in hidden or unknown is None else round(1 - unknown, 4)
    if f"{column}|share" in hidden or column in hidden:
        return None
    share = row["shares"][column]
    return None if share is None else float(share)


def _charts(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Line charts of the shares: one per horizon across entry cohorts, one per cohort
    across horizons; a hidden share is a gap. Each comes with the values it draws."""
    names = {**{c: STATUS_LABELS[c] for c in STATUS_COLUMNS}, "known": "Situation connue"}
    cohorts = sorted({row["cohort"] for row in rows})
    at = {(row["cohort"], row["horizon"]): row for row in rows}

    def chart(kind: str, i: int, title: str, labels: list[str],
              keys: list[tuple[str, str]]) -> dict[str, Any]:
        values = {c: [_share(at[key], c) for key in keys] for c in SERIES}
        return {"title": title, "labels": labels,
                "series": [(names[c], values[c]) for c in SERIES],
                "svg": svg.share_lines(labels, [(names[c], values[c]) for c in SERIES],
                                       title=title, ident=f"{kind}-{i}",
                                       description="Les valeurs tracées sont dans le "
                                                   "tableau qui suit le graphique.")}

    by_horizon = [chart("horizon", i, f"Horizon {HORIZON_LABELS[h]} : parts par cohorte "
                        "d'entrée", cohorts, [(c, h) for c in cohorts])
                  for i, h in enumerate(HORIZONS)]
    by_cohort = [chart("cohorte", i, f"Cohorte {c} : parts par horizon",
                       [HORIZON_LABELS[h] for h in HORIZONS], [(c, h) for h in HORIZONS])
                 for i, c in enumerate(cohorts)]
    return {"by_horizon": by_horizon, "by_cohort": by_cohort}


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
    read = (url_for("web.report_read", **{k: v for k, v in state.values.items()
                                          if k != "format" and v not in ("", None)})
            if links else None)
    return _page("evaluation/reports.html", state, status, links=links, read=read)


@bp.route("/rapports/lire")
@allow(*AGGREGATE_ROLES)
def report_read() -> Any:
    """The execution report as a page: the HTML file's content, navigable by action,
    printable, with the download buttons beside it (built and audited as a download)."""
    data = {k: v for k, v in _query_args().items() if k != "format"}

    def build(s: Any, _writes: Any, args: dict[str, Any]) -> Any:
        return report_model.build(s, current_actor(), args, current_app.config,
                                  today=clock.today())

    built, state, status = _run(ReportPageArgs(), data, build, reads_only=True)
    if built is None:
        return _report_page(state, status, [])
    with transaction() as s:
        report_model.record_generation(s, current_actor(), built, fmt="page", now=clock.now())
    links = [(url_for("web.report_download", **{**data, "format": fmt}), text)
             for fmt, text in REPORT_LINKS]
    return _page("evaluation/report_page.html", state, 200, report=built,
                 head=built["header"], body=to_html_fragment(built), links=links)


@bp.route("/dictionnaire")
@allow(*AGGREGATE_ROLES)
def codebook() -> Any:
    """The codebook: each indicator and cohort cell, its definition, rules, unit and the
    disclosure rules applied (as GET /api/v1/codebook)."""
    data = _query_args()
    programmes = all_programmes(session())
    data.setdefault("programme", programmes[0].code if programmes else "")
    book, state, status = _run(CodebookArgs(), data, lambda s, _, args: queries.codebook(
        s, args["programme"], current_app.config, mode=args["mode"]))
    actions: dict[str, list[dict[str, Any]]] = {}
    for item in (book or {}).get("indicators", []):
        actions.setdefault(item["action"], []).append(item)
    reporting = (book or {}).get("common_indicators") or [{"reported_by": list(actions)}]
    return _page("evaluation/codebook.html", state, status, book=book, by_action=actions,
                 book_actions=reporting[0]["reported_by"])


@bp.route("/rapports/telecharger")
@allow(*AGGREGATE_ROLES)
def report_download() -> Any:
    """The execution report file, built and audited as GET /api/v1/reports/... does."""
    data = _query_args()

    def build(s: Any, _writes: Any, args: dict[str, Any]) -> Any:
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
    extension = output.FORMATS[head["format"]][1]
    name = (f"rapport-execution-{head['programme']}-{head['departement']}-{head['year']}"
            f"-{mode}.{extension}")
    return Response(rendered.content, mimetype=rendered.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
