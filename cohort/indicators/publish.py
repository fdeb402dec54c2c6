"""Turn exact results into what a reader may see: internal (exact, labelled) or published
(disclosure control applied before anything is serialised).

Published mode builds the disclosure tables from the results — every count a cell, every
breakdown and per-reason figure a part of its total, every share a rate over its declared
denominator — and lets ``disclosure.protect`` decide; suppressed raw values never leave
this module. A hidden cell is marked with one neutral word, never the reason it was hidden:
"primary" would tell a reader the value lies in 1..k-1. Volumes (hours, measures in use)
are not counts of people and pass as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cohort.errors import Forbidden, Rejected
from cohort.indicators import disclosure
from cohort.indicators.base import Cut
from cohort.indicators.cohorts import HORIZONS, STATUS_COLUMNS, CohortRow
from cohort.indicators.engine import IndicatorResult

INTERNAL_NOTICE = "effectifs exacts — usage interne"
SUPPRESSED = "suppressed"
# Parts of a volume that count people: protected like counts, and hiding the volume.
VOLUME_HEADCOUNTS = frozenset({"measures"})
PUBLISHED_NOTICE = ("effectifs publiés : secret statistique appliqué (cases de moins de "
                    "{k} masquées, effectifs arrondis à {base})")


@dataclass(frozen=True)
class Rules:
    mode: str  # "published" | "internal"
    k: int
    rounding_base: int

    @property
    def notice(self) -> str:
        if self.mode == "internal":
            return INTERNAL_NOTICE
        return PUBLISHED_NOTICE.format(k=self.k, base=self.rounding_base)


def check_evaluator_cut(cut: Cut, *, today: dt.date, admin: bool) -> None:
    """Evaluators get whole months, an as-of date that is a month's end no later than the
    end of the last complete month, and no recorded-before cut (that is for
    administrators). A day-by-day as-of would show on which day a small count changed,
    i.e. when somebody entered (issue 18)."""
    if cut.recorded_before is not None and not admin:
        raise Forbidden("recorded_before is for administrators",
                        errors={"recorded_before": ["administrators only"]})
    if cut.period_from.day != 1:
        raise Rejected("period_from", "must be the first day of a month")
    if (cut.period_to + dt.timedelta(days=1)).day != 1:
        raise Rejected("period_to", "must be the last day of a month")
    last_complete = today.replace(day=1) - dt.timedelta(days=1)
    if cut.as_of > last_complete:
        raise Rejected("as_of", f"must be on or before {last_complete.isoformat()} "
                                "(the end of the last complete month)")
    if (cut.as_of + dt.timedelta(days=1)).day != 1:
        raise Rejected("as_of", "must be the last day of a month")


def _key(action: str, code: str, part: str) -> str:
    return f"{action}|{code}|{part}"


def publish_indicators(results: list[IndicatorResult], rules: Rules) -> list[dict[str, Any]]:
    """One plain dict per indicator, values exact (internal) or protected (published)."""
    if rules.mode == "internal":
        rendered = [_render(r, lambda part, r=r: r.values.get(part), {}, None) for r in results]
        _exact_rates(results, rendered)
        return _with_numbers(rendered)
    counts, breakdowns, rates = [], [], []
    by_code = {(r.action, r.code): r for r in results}
    for r in results:
        if not r.is_count:
            for part in VOLUME_HEADCOUNTS & set(r.values):
                counts.append(disclosure.Count(_key(r.action, r.code, part), int(r.values[part])))
            continue
        for part, value in r.values.items():
            counts.append(disclosure.Count(_key(r.action, r.code, part), int(value)))
        for part in (*r.breakdowns, *[e for e in r.extra_counts if e.startswith("by_")]):
            breakdowns.append(disclosure.Breakdown(_key(r.action, r.code, part),
                                                   _key(r.action, r.code, "value")))
        of = by_code.get((r.action, r.rate_of)) if r.rate_of else None
        if of is not None and of.is_count and r.values["value"] <= of.values["value"]:
            # A share's numerator is a part of its denominator: its complement is small too.
            breakdowns.append(disclosure.Breakdown(_key(r.action, r.code, "value"),
                                                   _key(r.action, r.rate_of, "value")))
        if of is not None:
            rates.append(disclosure.Rate(_key(r.action, r.code, "rate"),
                                         _key(r.action, r.code, "value"),
                                         _key(r.action, r.rate_of, "value")))
    protected = disclosure.protect(counts, breakdowns=breakdowns, rates=rates, k=rules.k,
                                   rounding_base=rules.rounding_base)
    rendered = []
    for r in results:
        if not r.is_count:
            rendered.append(_render_volume(r, protected))
            continue

        def value(part: str, r: IndicatorResult = r) -> Any:
            return protected.values.get(_key(r.action, r.code, part))

        reasons = {part: SUPPRESSED for part in r.values
                   if _key(r.action, r.code, part) in protected.reasons}
        if _key(r.action, r.code, "rate") in protected.reasons:
            reasons["rate"] = SUPPRESSED
        rendered.append(_render(r, value, reasons,
                                protected.rates.get(_key(r.action, r.code, "rate"))))
    return _with_numbers(rendered)


def _with_numbers(rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Numerator and denominator as numbers beside every rate (issue 19): the numerator
    is the indicator's own shown value, the denominator the shown value of the indicator
    it is a share of (hidden with it), or the sheet's target. Nothing that is not already
    shown elsewhere in the same output."""
    shown = {(item["action"], item["code"]): item for item in rendered}
    for item in rendered:
        item["numerator_value"] = item["denominator_value"] = None
        if item["rate_of"]:
            of = shown.get((item["action"], item["rate_of"]))
            item["numerator_value"] = item["value"]
            item["denominator_value"] = None if of is None else of["value"]
            if of is None or "value" in of["suppressed"]:
                item["suppressed"]["denominator"] = SUPPRESSED
        elif item["target"] and item["target"].get("value"):
            item["numerator_value"] = item["value"]
            item["denominator_value"] = item["target"]["value"]
        else:
            continue
        if "value" in item["suppressed"]:
            item["suppressed"]["numerator"] = SUPPRESSED
    return rendered


def _render_volume(r: IndicatorResult, protected: disclosure.Published) -> dict[str, Any]:
    """A volume is shown exactly, unless the number of people behind it is hidden: 1.5
    measures in use would tell that two or three youths are followed."""
    hidden = {part for part in VOLUME_HEADCOUNTS & set(r.values)
              if _key(r.action, r.code, part) in protected.reasons}

    def value(part: str) -> Any:
        if hidden:
            return None
        if part in VOLUME_HEADCOUNTS:
            return protected.values[_key(r.action, r.code, part)]
        return r.values.get(part)

    return _render(r, value, dict.fromkeys(r.values, SUPPRESSED) if hidden else {}, None)


def _render(r: IndicatorResult, value: Any, suppressed: dict[str, str],
            published_rate: float | None) -> dict[str, Any]:
    main = value("value")
    parts = {p: value(p) for p in r.breakdowns}
    extras = {e: value(e) for e in r.values if e not in ("value", *r.breakdowns)}
    rate = published_rate if r.rate_of else None
    target = _target(r.target)
    vs_target = None
    if target and main is not None and target.get("value"):
        vs_target = round(float(main) / float(target["value"]), 4)
    return {
        "action": r.action, "code": r.code, "label_fr": r.label_fr, "unit": r.unit,
        "definition": r.definition, "numerator": r.numerator, "denominator": r.denominator,
        "value": main, "breakdowns": parts, "details": extras,
        "rate": rate, "rate_of": r.rate_of, "target": target, "rate_vs_target": vs_target,
        "suppressed": suppressed,
    }


def _target(target: dict[str, Any] | None) -> dict[str, Any] | None:
    if not target:
        return None
    keep = {k: target[k] for k in ("code", "label_fr", "value", "min", "max", "unit")
            if k in target}
    if "value" not in keep and "max" in keep:
        keep["value"] = keep["max"]
    return keep


def _exact_rates(results: list[IndicatorResult], rendered: list[dict[str, Any]]) -> None:
    """Internal mode: shares from exact values (None when the denominator is 0)."""
    values = {(r.action, r.code): r.values.get("value") for r in results}
    for item in rendered:
        if item["rate_of"]:
            denominator = values.get((item["action"], item["rate_of"]))
            item["rate"] = (None if not denominator
                            else round(float(item["value"]) / float(denominator), 4))


def publish_cohorts(rows: list[CohortRow], rules: Rules) -> list[dict[str, Any]]:
    """Cohort rows with shares; in published mode every count goes through protection."""
    if rules.mode == "internal":
        return [_cohort_dict(r, {c: r.counts[c] for c in STATUS_COLUMNS}, r.members,
                             r.censored, r.observable, r.known, {}, _shares(r)) for r in rows]
    counts, breakdowns, additive, rates = [], [], [], []
    for r in rows:
        base = f"{r.cohort}|{r.horizon}"
        counts += [disclosure.Count(f"{base}|members", r.members),
                   disclosure.Count(f"{base}|censored", r.censored),
                   disclosure.Count(f"{base}|observable", r.observable),
                   disclosure.Count(f"{base}|known", r.known)]
        additive.append(disclosure.Additive(f"{base}|members",
                                            (f"{base}|censored", f"{base}|observable")))
        breakdowns.append(disclosure.Breakdown(f"{base}|known", f"{base}|observable"))
        for column in STATUS_COLUMNS:
            counts.append(disclosure.Count(f"{base}|{column}", r.counts[column]))
            breakdowns.append(disclosure.Breakdown(f"{base}|{column}", f"{base}|known"))
            rates.append(disclosure.Rate(f"{base}|{column}|share", f"{base}|{column}",
                                         f"{base}|known"))
        rates.append(disclosure.Rate(f"{base}|known|share", f"{base}|known",
                                     f"{base}|observable"))
    protected = disclosure.protect(counts, breakdowns=breakdowns, additive=additive,
                                   rates=rates, k=rules.k, rounding_base=rules.rounding_base)
    out = []
    for r in rows:
        base = f"{r.cohort}|{r.horizon}"
        known_share = protected.rates.get(f"{base}|known|share")
        shares = {c: protected.rates.get(f"{base}|{c}|share") for c in STATUS_COLUMNS}
        shares["unknown"] = None if known_share is None else round(1 - known_share, 4)
        reasons = {key[len(base) + 1:]: SUPPRESSED for key in protected.reasons
                   if key.startswith(base + "|")}
        out.append(_cohort_dict(
            r, {c: protected.values[f"{base}|{c}"] for c in STATUS_COLUMNS},
            protected.values[f"{base}|members"], protected.values[f"{base}|censored"],
            protected.values[f"{base}|observable"], protected.values[f"{base}|known"],
            reasons, shares))
    return out


def _shares(r: CohortRow) -> dict[str, float | None]:
    shares: dict[str, float | None] = {c: r.share(c) for c in STATUS_COLUMNS}
    shares["unknown"] = r.share_unknown
    return {k: (None if v is None else round(v, 4)) for k, v in shares.items()}


def _cohort_dict(r: CohortRow, counts: dict[str, Any], members: Any, censored: Any,
                 observable: Any, known: Any, suppressed: dict[str, str],
                 shares: dict[str, Any]) -> dict[str, Any]:
    return {"cohort": r.cohort, "horizon": r.horizon, "members": members,
            "censored": censored, "observable": observable, "known": known,
            "counts": counts, "shares": shares, "suppressed": suppressed}


__all__ = ["HORIZONS", "Rules", "publish_cohorts", "publish_indicators"]
