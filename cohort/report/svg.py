"""Inline SVG charts for the HTML report: no script, no external file, printable.

Hidden (suppressed) values are drawn as nothing, never as a guess; the chart says so.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

PALETTE = ("#1f5f8b", "#c2571a", "#2e7d32", "#7b3f9e", "#b8860b", "#546e7a", "#ad1457")
FONT = 'font-family="Marianne, Arial, sans-serif" font-size="11"'


def _nice_max(value: float) -> float:
    if value <= 0:
        return 5
    step = 10 ** (len(str(int(value))) - 1)
    return float(((int(value) // step) + 1) * step)


def monthly_lines(series: dict[str, list[tuple[str, int | None]]], *, title: str) -> Markup:
    """One line per action over the months; a hidden month breaks the line."""
    width, height, left, right, top, bottom = 720, 260, 48, 150, 28, 36
    months = next(iter(series.values()), [])
    n = max(len(months), 1)
    peak = _nice_max(max((v for points in series.values() for _, v in points if v),
                         default=0))
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / max(n - 1, 1))

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} '
             f'{height}" class="chart" aria-labelledby="t-monthly"><title id="t-monthly">'
             f'{escape(title)}</title>']
    for k in range(5):
        value = peak * k / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" {FONT}>'
                     f'{value:g}</text>')
    for i, (month, _) in enumerate(months):
        parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                     f'{FONT}>{escape(month[5:])}</text>')
    for s, (name, points) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        segment: list[str] = []
        segments = [segment]
        for i, (_, value) in enumerate(points):
            if value is None:
                segment = []
                segments.append(segment)
                continue
            segment.append(f"{x(i):.1f},{y(value):.1f}")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="2.5" fill="{colour}"/>')
        for seg in segments:
            if len(seg) > 1:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                             f'points="{" ".join(seg)}"/>')
        legend_y = top + 14 * s
        parts.append(f'<rect x="{width - right + 12}" y="{legend_y}" width="10" height="10" '
                     f'fill="{colour}"/><text x="{width - right + 28}" y="{legend_y + 9}" '
                     f'{FONT}>{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece went through escape()


def share_bars(groups: list[tuple[str, list[tuple[str, float | None]]]], *,
               title: str, ident: str) -> Markup:
    """Grouped bars: for each horizon, the share of the known in each status (0–100 %)."""
    width, height, left, top, bottom = 720, 240, 40, 24, 52
    legend = [label for label, _ in groups[0][1]] if groups else []
    plot_w, plot_h = width - left - 10, height - top - bottom
    group_w = plot_w / max(len(groups), 1)
    bar_w = (group_w - 12) / max(len(legend), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} '
             f'{height}" class="chart" aria-labelledby="t-{ident}"><title id="t-{ident}">'
             f'{escape(title)}</title>']
    for k in range(5):
        yy = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{yy:.1f}" y2="{yy:.1f}" '
                     f'stroke="#ddd"/><text x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end" '
                     f'{FONT}>{25 * k} %</text>')
    for g, (label, bars) in enumerate(groups):
        gx = left + g * group_w + 6
        for b, (_, share) in enumerate(bars):
            bx = gx + b * bar_w
            if share is None:
                parts.append(f'<text x="{bx + bar_w / 2:.1f}" y="{top + plot_h - 3}" '
                             f'text-anchor="middle" {FONT} fill="#888">·</text>')
                continue
            h = plot_h * share
            parts.append(f'<rect x="{bx:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[b % len(PALETTE)]}"/>')
        parts.append(f'<text x="{gx + (group_w - 12) / 2:.1f}" y="{top + plot_h + 14}" '
                     f'text-anchor="middle" {FONT}>{escape(label)}</text>')
    for b, name in enumerate(legend):
        lx = left + b * 160
        parts.append(f'<rect x="{lx}" y="{height - 16}" width="10" height="10" '
                     f'fill="{PALETTE[b % len(PALETTE)]}"/><text x="{lx + 14}" '
                     f'y="{height - 7}" {FONT}>{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece went through escape()


def charts(model: dict[str, Any]) -> dict[str, Any]:
    """The charts of the report model, ready to be placed in the template."""
    monthly = monthly_lines(
        {a["code"]: [(m["month"], None if m["suppressed"] else m["value"])
                     for m in a["accompanied_by_month"]] for a in model["actions"]},
        title="Personnes accompagnées par mois et par action")
    labels = model["cohorts"]["horizon_labels"]
    statuses = [("in_pathway", "en parcours"), ("durable_employment", "emploi durable"),
                ("stably_housed", "logement stable"), ("has_resources", "ressources")]
    by_cohort: dict[str, list[dict[str, Any]]] = {}
    for row in model["cohorts"]["rows"]:
        by_cohort.setdefault(row["cohort"], []).append(row)

    def share(row: dict[str, Any], key: str) -> float | None:
        hidden = f"{key}|share" in row["suppressed"] or key in row["suppressed"]
        return None if hidden else row["shares"][key]

    # A line per status across the horizons; a hidden or undefined share is a gap.
    cohort_charts = [(cohort, share_lines(
        [labels.get(r["horizon"], r["horizon"]) for r in rows],
        [(name, [share(r, key) for r in rows]) for key, name in statuses],
        ident=f"c{i}", title=f"Cohorte {cohort} : situation des personnes connues, par horizon",
        description="Les valeurs sont dans le tableau des cohortes."))
        for i, (cohort, rows) in enumerate(sorted(by_cohort.items()))]
    return {"monthly": monthly, "cohorts": cohort_charts}


DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2")


def share_lines(labels: list[str], series: list[tuple[str, list[float | None]]], *,
                title: str, ident: str, description: str = "") -> Markup:
    """Lines of shares (0–100 %) over ``labels``; a hidden or undefined share is a gap.

    Each series has its colour and its dash pattern (colour is never the only signal);
    a point with no neighbour is drawn as a dot. The legend says what a gap means.
    """
    width, left, right, top = 720, 44, 14, 24
    legend_rows = len(series) + 1
    height = 250 + 16 * legend_rows
    plot_w, plot_h = width - left - right, 170
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(share: float) -> float:
        return top + plot_h - plot_h * share

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} '
             f'{height}" class="chart" aria-labelledby="t-{ident}" aria-describedby="d-{ident}">'
             f'<title id="t-{ident}">{escape(title)}</title>'
             f'<desc id="d-{ident}">{escape(description)}</desc>']
    for k in range(5):
        yy = y(k / 4)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
                     f'stroke="#ddd"/><text x="{left - 4}" y="{yy + 4:.1f}" '
                     f'text-anchor="end" {FONT}>{25 * k} %</text>')
    for i, label in enumerate(labels):
        parts.append(f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                     f'{FONT}>{escape(label)}</text>')
    for s, (_, values) in enumerate(series):
        colour, dash = PALETTE[s % len(PALETTE)], DASHES[s % len(DASHES)]
        runs: list[list[tuple[float, float]]] = [[]]
        for i, share in enumerate(values):
            if share is None:
                runs.append([])
            else:
                runs[-1].append((x(i), y(share)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" '
                             f'stroke-dasharray="{dash}" points="{points}"/>')
            for px, py in run:
                parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
    legend_top = top + plot_h + 36
    for s, (name, _) in enumerate(series):
        colour, dash = PALETTE[s % len(PALETTE)], DASHES[s % len(DASHES)]
        ly = legend_top + 16 * s
        parts.append(f'<line x1="{left}" x2="{left + 30}" y1="{ly:.1f}" y2="{ly:.1f}" '
                     f'stroke="{colour}" stroke-width="2.5" stroke-dasharray="{dash}"/>'
                     f'<text x="{left + 38}" y="{ly + 4:.1f}" {FONT}>{escape(name)}</text>')
    ly = legend_top + 16 * len(series)
    parts.append(f'<line x1="{left}" x2="{left + 10}" y1="{ly:.1f}" y2="{ly:.1f}" '
                 f'stroke="#555" stroke-width="2.5"/><line x1="{left + 20}" x2="{left + 30}" '
                 f'y1="{ly:.1f}" y2="{ly:.1f}" stroke="#555" stroke-width="2.5"/>'
                 f'<text x="{left + 38}" y="{ly + 4:.1f}" {FONT}>interruption : valeur masquée '
                 f'(secret statistique) ou incalculable (personne d\'observable)</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece went through escape()
