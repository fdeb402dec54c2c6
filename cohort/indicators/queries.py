"""The aggregate read services the shells call: who may ask what, in which mode.

Evaluators get published aggregates only, on whole months and a settled as-of date, and
every query of theirs is audited; pilots also get exact ("internal") figures for their own
département's actions; administrators get everything. Coordinators and referents do not
reach aggregates here (their worklists are elsewhere).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor, Role
from cohort.domain.pathway_status import DEFAULT_STABLE_HOUSING
from cohort.errors import Forbidden, Rejected
from cohort.indicators import disclosure, published
from cohort.indicators.base import Cut
from cohort.indicators.codebook import build as codebook_of
from cohort.indicators.cohorts import cohort_table
from cohort.indicators.engine import compute_action
from cohort.indicators.publish import (
    Rules,
    check_evaluator_cut,
    publish_cohorts,
    publish_indicators,
)
from cohort.models import Action, Programme
from cohort.reference import actions_of, programme_by_code


def rules_for(actor: Actor, actions: list[Action], mode: str, settings: dict[str, Any]) -> Rules:
    if mode not in ("published", "internal"):
        raise Rejected("mode", "published or internal")
    if mode == "internal":
        if actor.role is Role.PILOT:
            foreign = [a.code for a in actions if a.departement != actor.departement]
            if foreign:
                raise Forbidden("exact figures only for your département's actions",
                                errors={"mode": ["internal mode not allowed for "
                                                 + ", ".join(foreign)]})
        elif not actor.is_admin:
            raise Forbidden("exact figures are for pilots and administrators",
                            errors={"mode": ["published only for your role"]})
    return Rules(mode=mode, k=int(settings["DISCLOSURE_K"]),
                 rounding_base=int(settings["DISCLOSURE_ROUNDING_BASE"]))


def cut_for(programme: Programme, args: dict[str, Any], actor: Actor, *, today: dt.date,
         mode: str) -> Cut:
    period_from = args.get("period_from") or programme.period_start
    period_to = args.get("period_to") or programme.period_end
    default_as_of = today if mode == "internal" else today.replace(day=1) - dt.timedelta(days=1)
    cut = Cut(period_from=period_from, period_to=period_to,
              as_of=args.get("as_of") or default_as_of,
              recorded_before=args.get("recorded_before"))
    if cut.period_from > cut.period_to:
        raise Rejected("period_from", "is after period_to")
    if cut.recorded_before is not None and not actor.is_admin:
        raise Forbidden("recorded_before is for administrators",
                        errors={"recorded_before": ["administrators only"]})
    if mode == "published" and not actor.is_admin:
        check_evaluator_cut(cut, today=today, admin=False)
    return cut


def header_of(programme: Programme, cut: Cut, rules: Rules) -> dict[str, Any]:
    return {"programme": programme.code, "period_from": cut.period_from,
            "period_to": cut.period_to, "as_of": cut.as_of,
            "recorded_before": cut.recorded_before, "mode": rules.mode,
            "notice": rules.notice, "k": rules.k if rules.mode == "published" else None}


def indicators(session: Session, actor: Actor, args: dict[str, Any], settings: dict[str, Any],
               *, today: dt.date, now: dt.datetime,
               audit_session: Session | None = None) -> dict[str, Any]:
    """Every declared indicator of an action or a département's actions.

    Computed in ``session`` and audited in ``audit_session`` (default: the same): a
    session on a read replica cannot write, so the shells pass the primary's."""
    programme = programme_by_code(session, args["programme"])
    actions = actions_of(session, programme, action=args.get("action"),
                         departement=args.get("departement"))
    mode = args.get("mode") or "published"
    rules = rules_for(actor, actions, mode, settings)
    cut = cut_for(programme, args, actor, today=today, mode=mode)
    body = None
    if not args.get("action"):  # one action: its population check runs live
        body = _stored(session, "indicators", programme, actions, cut, rules)
    source = "live" if body is None else "published"
    if body is None:
        body = indicator_blocks(session, programme, actions, cut, rules,
                                check_population=bool(args.get("action")))
    audit_query(audit_session or session, actor, "indicators.query", args, cut, rules, now=now,
                source=source)
    return {**header_of(programme, cut, rules), "actions": body}


def indicator_blocks(session: Session, programme: Programme, actions: list[Action], cut: Cut,
                     rules: Rules, *, check_population: bool = False) -> list[dict[str, Any]]:
    """The indicators of each action, rendered for ``rules`` (protected when published)."""
    results = []
    for action in actions:
        results += compute_action(session, programme, action, cut)
    if rules.mode == "published" and check_population:
        population = next((r.values["value"] for r in results if r.kind == "accompanied"), None)
        if population is not None:
            disclosure.check_population(int(population), k=rules.k)
    rendered = publish_indicators(results, rules)
    titles = {a.code: a for a in actions}
    return [
        {"code": code, "title": titles[code].title, "departement": titles[code].departement,
         "public": titles[code].public, "territory": titles[code].territory,
         "indicators": [r for r in rendered if r["action"] == code]}
        for code in titles]


def cohort_rows(session: Session, programme: Programme, actions: list[Action], cut: Cut,
                rules: Rules, grain: str) -> list[dict[str, Any]]:
    """The cohort table of ``actions``, rendered for ``rules``."""
    rows = cohort_table(session, [a.id for a in actions], cut, grain=grain,
                        stable_housing=programme.settings.get("stable_housing",
                                                              DEFAULT_STABLE_HOUSING))
    return publish_cohorts(rows, rules)


def _stored(session: Session, kind: str, programme: Programme, actions: list[Action], cut: Cut,
            rules: Rules, grain: str | None = None) -> Any | None:
    """The stored published body of this exact cut, when ``cohort publish`` computed it
    from the data as it is now; None otherwise (and always in internal mode)."""
    if rules.mode != "published" or cut.recorded_before is not None or not actions:
        return None
    key = published.cut_key(kind, programme.code, [a.code for a in actions], cut, rules, grain)
    return published.lookup(session, programme, key)


def publish(session: Session, code: str, settings: dict[str, Any], *, today: dt.date,
            now: dt.datetime, as_of: dt.date | None = None) -> dict[str, Any]:
    """``cohort publish``: compute and store, already protected, the published indicator
    set and the cohort tables (every grain the period allows, so that the cohort page's
    preview of hidden cells is read from the store too) of the programme, of each of its
    départements and of its joint actions, for the standard periods, as of ``as_of``
    (default: the end of the last complete month). A cut whose stored body is still
    current is left alone: a re-run on the same data writes nothing."""
    programme = programme_by_code(session, code)
    as_of = as_of or published.last_complete_month_end(today)
    rules = Rules(mode="published", k=int(settings["DISCLOSURE_K"]),
                  rounding_base=int(settings["DISCLOSURE_ROUNDING_BASE"]))
    mark = published.watermark(session)  # before the figures: see the module
    written, unchanged, seen = [], 0, set()
    groups = [None, *sorted({a.departement for a in actions_of(session, programme)})]
    for departement in groups:
        actions = actions_of(session, programme, departement=departement)
        if not actions:
            continue
        for period_from, period_to in published.standard_periods(programme, as_of):
            cut = Cut(period_from=period_from, period_to=period_to, as_of=as_of,
                      recorded_before=None)
            for kind, grain in _stored_kinds(cut):
                key = published.cut_key(kind, programme.code, [a.code for a in actions],
                                        cut, rules, grain)
                if key in seen:
                    continue
                seen.add(key)
                if published.current(session, programme, key) is not None:
                    unchanged += 1
                    continue
                body = (indicator_blocks(session, programme, actions, cut, rules)
                        if kind == "indicators"
                        else cohort_rows(session, programme, actions, cut, rules, grain or ""))
                published.store(session, programme, kind, key, as_of, mark, body, now=now)
                written.append({"kind": kind, "departement": departement or "all",
                                "period_from": period_from, "period_to": period_to,
                                "grain": grain})
    pruned = published.prune_log(session)
    return {"programme": programme.code, "as_of": as_of,
            "data_version": published.data_version(programme, mark),
            "written": written, "unchanged": unchanged, "log_pruned": pruned}


def _stored_kinds(cut: Cut) -> list[tuple[str, str | None]]:
    """The indicator set, and a cohort table per grain the cut's span allows."""
    kinds: list[tuple[str, str | None]] = [("indicators", None)]
    for grain in GRAIN_CHOICES:
        try:
            check_span(cut, grain)
        except Rejected:
            continue
        kinds.append(("cohorts", grain))
    return kinds


def cohorts(session: Session, actor: Actor, args: dict[str, Any], settings: dict[str, Any],
            *, today: dt.date, now: dt.datetime,
            audit_session: Session | None = None) -> dict[str, Any]:
    """The cohort table of one or several actions (all of the programme when none named),
    computed in ``session`` and audited in ``audit_session`` (as ``indicators``)."""
    programme = programme_by_code(session, args["programme"])
    codes = args.get("actions") or []
    actions = [a for a in actions_of(session, programme, departement=args.get("departement"))
               if not codes or a.code in codes]
    missing = set(codes) - {a.code for a in actions}
    if missing:
        raise Rejected("actions", f"unknown action(s): {', '.join(sorted(missing))}")
    mode = args.get("mode") or "published"
    rules = rules_for(actor, actions, mode, settings)
    cut = cut_for(programme, args, actor, today=today, mode=mode)
    grain = args.get("grain") or "quarter"
    check_span(cut, grain)
    rows = _stored(session, "cohorts", programme, actions, cut, rules, grain)
    source = "live" if rows is None else "published"
    if rows is None:
        rows = cohort_rows(session, programme, actions, cut, rules, grain)
    audit_query(audit_session or session, actor, "cohorts.query", args, cut, rules, now=now,
                source=source)
    return {**header_of(programme, cut, rules), "grain": grain,
            "actions": sorted(a.code for a in actions), "rows": rows}


GRAIN_CHOICES = ("month", "quarter", "semester", "year", "all")


def suppression_preview(session: Session, actor: Actor, args: dict[str, Any],
                        settings: dict[str, Any], *, today: dt.date) -> list[dict[str, Any]]:
    """For each grain the cohort table may take, how many of its cells disclosure control
    would hide, so that the page can say so before the user picks one (issue 19).

    The same cut and actions as ``cohorts`` (so the same checks); published mode only —
    internal mode hides nothing. A grain whose span is too long is marked unavailable.
    What it tells is what the user could get by asking each grain in turn: how many
    cells are hidden, never which value. Not audited apart from the query it goes with."""
    programme = programme_by_code(session, args["programme"])
    codes = args.get("actions") or []
    actions = [a for a in actions_of(session, programme, departement=args.get("departement"))
               if not codes or a.code in codes]
    mode = args.get("mode") or "published"
    rules = rules_for(actor, actions, mode, settings)
    cut = cut_for(programme, args, actor, today=today, mode=mode)
    stable = programme.settings.get("stable_housing", DEFAULT_STABLE_HOUSING)
    preview = []
    for grain in GRAIN_CHOICES:
        try:
            check_span(cut, grain)
        except Rejected:
            preview.append({"grain": grain, "available": False, "cells": 0, "hidden": 0})
            continue
        rows = _stored(session, "cohorts", programme, actions, cut, rules, grain)
        if rows is None:
            rows = publish_cohorts(cohort_table(session, [a.id for a in actions], cut,
                                                grain=grain, stable_housing=stable), rules)
        cells = len(rows) * CELLS_PER_ROW
        hidden = sum(len(row["suppressed"]) for row in rows)
        preview.append({"grain": grain, "available": True, "cells": cells, "hidden": hidden})
    return preview


# A cohort row's cells: members, censored, observable, known, four statuses, five shares.
CELLS_PER_ROW = 13


def pooling_preview(session: Session, actor: Actor, args: dict[str, Any],
                    settings: dict[str, Any], *, today: dt.date) -> list[dict[str, Any]]:
    """The "both départements" choices for the chosen actions: for each pooling of the
    programme file (twin actions of 59 and 62 and their joint follow-up) that the chosen
    actions touch without holding all of it, the pooled actions (the chosen ones and the
    pooling's), the mode and as-of that choice runs with, and how many of its cells
    disclosure control would hide at the same grain — before the user picks it.

    The mode is the asked one when the actor may have it on the pooled actions; otherwise
    (a pilot: exact figures are for their own département's actions only, ``rules_for``)
    published, with the default as-of of published mode when the asked one does not suit
    it. A cut published mode refuses (days rather than whole months) makes the choice
    unavailable, with the reason. Like ``suppression_preview``: counts, never values; not
    audited apart from the query it goes with."""
    codes = args.get("actions") or []
    if not codes:
        return []
    programme = programme_by_code(session, args["programme"])
    by_code = {a.code: a for a in actions_of(session, programme)}
    grain = args.get("grain") or "quarter"
    stable = programme.settings.get("stable_housing", DEFAULT_STABLE_HOUSING)
    choices = []
    for pooling in programme.settings.get("poolings", []):
        group = pooling["actions"]
        if not set(codes) & set(group) or set(group) <= set(codes):
            continue
        pooled = sorted(set(codes) | set(group))
        actions = [by_code[c] for c in pooled if c in by_code]
        mode = args.get("mode") or "published"
        try:
            rules = rules_for(actor, actions, mode, settings)
        except Forbidden:
            mode = "published"
            rules = rules_for(actor, actions, mode, settings)
        as_of = args.get("as_of")
        if (mode != (args.get("mode") or "published") and as_of is not None
                and not actor.is_admin):
            as_of = None  # the asked as-of was for exact figures; published takes its own
        choice = {"code": pooling["code"], "label_fr": pooling["label_fr"],
                  "actions": pooled, "mode": mode,
                  "as_of": as_of, "available": True, "cells": 0, "hidden": 0,
                  "refused": None}
        try:
            cut = cut_for(programme, {**args, "as_of": as_of}, actor, today=today, mode=mode)
            check_span(cut, grain)
        except Rejected as error:
            choice.update(available=False, refused=error.field)
            choices.append(choice)
            continue
        rows = publish_cohorts(cohort_table(session, [a.id for a in actions], cut,
                                            grain=grain, stable_housing=stable), rules)
        choice.update(cells=len(rows) * CELLS_PER_ROW,
                      hidden=sum(len(row["suppressed"]) for row in rows))
        choices.append(choice)
    return choices


def codebook(session: Session, code: str, settings: dict[str, Any], *,
             mode: str = "published") -> dict[str, Any]:
    """The codebook of a programme: every figure's label, definition, rules and unit."""
    if mode not in ("published", "internal"):
        raise Rejected("mode", "published or internal")
    return codebook_of(programme_by_code(session, code), mode=mode,
                       k=int(settings["DISCLOSURE_K"]),
                       rounding_base=int(settings["DISCLOSURE_ROUNDING_BASE"]))


# The longest period a cohort table may cover, per grain, in months: a row per cohort and
# horizon, so a month grain over decades is thousands of rows nobody reads.
MAX_SPAN_MONTHS = {"month": 36, "quarter": 120, "semester": 120, "year": 120, "all": 120}


def check_span(cut: Cut, grain: str) -> None:
    months = ((cut.period_to.year - cut.period_from.year) * 12
              + cut.period_to.month - cut.period_from.month + 1)
    limit = MAX_SPAN_MONTHS[grain]
    if months > limit:
        raise Rejected("period_to", f"the period may cover at most {limit} months "
                                    f"with grain={grain}")


def audit_query(session: Session, actor: Actor, action: str, args: dict[str, Any], cut: Cut,
           rules: Rules, *, now: dt.datetime, source: str = "live") -> None:
    """Every evaluator query, and every exact (internal) one, leaves an audit entry; one
    answered from the published store says so (``"source": "published"``)."""
    if actor.role is Role.EVALUATOR or rules.mode == "internal":
        extra = {"source": source} if source != "live" else {}
        audit.append(session, actor, action, now=now, details={**extra,
            "programme": args.get("programme"), "action": args.get("action"),
            "actions": args.get("actions"), "departement": args.get("departement"),
            "period_from": cut.period_from.isoformat(), "period_to": cut.period_to.isoformat(),
            "as_of": cut.as_of.isoformat(), "mode": rules.mode,
            "format": args.get("format"), "grain": args.get("grain"),
            "recorded_before": cut.recorded_before.isoformat() if cut.recorded_before else None})
