"""Flat tables of the aggregate outputs, for CSV files and terminal tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

INDICATOR_COLUMNS = ["action", "indicator", "label_fr", "part", "value", "suppressed",
                     "target", "rate", "rate_vs_target", "definition"]
COHORT_COLUMNS = ["cohort", "horizon", "members", "censored", "observable", "known",
                  "in_pathway", "durable_employment", "stably_housed", "has_resources",
                  "share_in_pathway", "share_durable_employment", "share_stably_housed",
                  "share_has_resources", "share_unknown"]


def indicator_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    for action in report["actions"]:
        for item in action["indicators"]:
            target = (item["target"] or {}).get("value")
            parts = [("value", item["value"]), *item["breakdowns"].items(),
                     *item["details"].items()]
            for part, value in parts:
                first = part == "value"
                yield [action["code"], item["code"], item["label_fr"], part, value,
                       item["suppressed"].get(part, ""), target if first else None,
                       item["rate"] if first else None,
                       item["rate_vs_target"] if first else None,
                       item["definition"] if first else ""]


def cohort_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    for row in report["rows"]:
        counts, shares = row["counts"], row["shares"]
        yield [row["cohort"], row["horizon"], row["members"], row["censored"],
               row["observable"], row["known"], counts["in_pathway"],
               counts["durable_employment"], counts["stably_housed"], counts["has_resources"],
               shares["in_pathway"], shares["durable_employment"], shares["stably_housed"],
               shares["has_resources"], shares["unknown"]]


def neutralise(value: Any) -> Any:
    """A text cell starting with = + - @ (or a tab/CR) is prefixed with ' so that no
    spreadsheet reads it as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def header_lines(report: dict[str, Any]) -> list[list[Any]]:
    return [["# programme", report["programme"]], ["# period", report["period_from"],
                                                    report["period_to"]],
            ["# as_of", report["as_of"]], ["# recorded_before", report["recorded_before"]],
            ["# mode", report["mode"]], ["# notice", report["notice"]]]


def to_csv(columns: list[str], rows: Iterable[list[Any]], report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    for line in header_lines(report):
        writer.writerow(["" if v is None else neutralise(str(v)) for v in line])
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return out.getvalue()
