"""`cohort indicators` and `cohort cohorts` as an operator runs them on the demo data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from cohort import create_app
from cohort.cli import cli
from cohort.indicators import queries
from cohort.indicators.disclosure import round_count


def cohort(*args: str, env: dict[str, str]) -> Any:
    """In-process (a subprocess per call would cost seconds of imports each); the app's
    engine is disposed afterwards so that no connection outlives the call."""
    apps: list[Any] = []

    def make_app() -> Any:
        apps.append(create_app({k.removeprefix("COHORT_"): v for k, v in env.items()}))
        return apps[-1]

    result = CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=make_app),
                                catch_exceptions=False)
    for app in apps:
        app.extensions["cohort.engine"].dispose()
    result.returncode = result.exit_code
    return result

CUT = ["--programme", "erbm-2023", "--from", "2023-01-01", "--to", "2023-12-31",
       "--as-of", "2024-06-30"]


def test_published_figures_are_the_exact_ones_rounded_or_hidden_and_cohorts_add_up(
        fresh_database_url: str, keys_file: Path, tmp_path: Path) -> None:
    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(keys_file)}
    loaded = cohort("demo", "load", "--participants", "40", env=env)
    assert loaded.returncode == 0, loaded.stderr

    exact_file, published_file = tmp_path / "exact.json", tmp_path / "published.json"
    for mode, path in (("internal", exact_file), ("published", published_file)):
        run = cohort("indicators", *CUT, "--departement", "62", "--mode", mode,
                     "--format", "json", "-o", str(path), env=env)
        assert run.returncode == 0, run.stderr
    exact, published = (json.loads(p.read_text(encoding="utf-8"))
                        for p in (exact_file, published_file))
    assert exact["notice"] == "effectifs exacts — usage interne"
    assert published["notice"].startswith("effectifs publiés")
    compared = 0
    for block_exact, block_published in zip(exact["actions"], published["actions"], strict=True):
        for e, p in zip(block_exact["indicators"], block_published["indicators"], strict=True):
            if e["code"] in ("planned_hours", "realised_hours"):
                assert p["value"] == e["value"]  # volumes, not counts of people
                continue
            if e["code"] == "measures_in_use":  # a volume, hidden when few youths are behind it
                few = 1 <= e["details"]["measures"] < 5
                assert p["value"] == (None if few else e["value"])
                continue
            parts = [("value", e["value"], p["value"]),
                     *((k, v, p["breakdowns"][k]) for k, v in e["breakdowns"].items())]
            for part, true, shown in parts:
                if part in p["suppressed"]:
                    assert shown is None
                else:
                    assert shown == round_count(true, 5), (e["action"], e["code"], part)
                    assert true == 0 or true >= 5
                compared += 1
    assert compared > 40

    table = cohort("indicators", *CUT, "--action", "62-A2", env=env)
    assert table.returncode == 0, table.stderr
    assert "secret statistique" in table.stdout
    assert "Bénéficiaires" in table.stdout

    run = cohort("cohorts", *CUT, "--action", "62-A2", "--action", "62-A6", "--grain", "year",
                 "--mode", "internal", "--format", "csv", env=env)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[5] == "# notice;effectifs exacts — usage interne"
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[6:])), delimiter=";"))
    assert {r["horizon"] for r in rows} == {"entry", "exit", "exit_6m", "entry_6m",
                                            "entry_12m", "entry_18m", "entry_24m"}
    for r in rows:
        assert int(r["members"]) == int(r["censored"]) + int(r["observable"])
        assert int(r["known"]) <= int(r["observable"])

    backwards = cohort("indicators", "--programme", "erbm-2023", "--from", "2023-06-01",
                       "--to", "2023-01-31", env=env)
    assert backwards.returncode == 2
    assert "period_from" in backwards.stderr
    assert "Traceback" not in backwards.stderr
    unknown = cohort("cohorts", "--programme", "erbm-2099", env=env)
    assert unknown.returncode == 2
    assert "programme" in unknown.stderr


def test_report_and_budget_commands(fresh_database_url: str, keys_file: Path,
                                    tmp_path: Path) -> None:
    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(keys_file)}
    budget = ["budget", "set", "--programme", "erbm-2023", "--action", "62-A3", "--year", "2023",
              "--total", "82000", "--state-effective", "41820", "--departement", "41820"]
    first = cohort(*budget, env=env)
    assert (first.returncode, first.stdout) == (0, "recorded (version 1)\n")
    assert cohort(*budget, env=env).stdout == "unchanged (version 1)\n"
    bad = cohort("budget", "set", "--programme", "erbm-2023", "--action", "62-A3", "--year",
                 "2023", "--total", "quatre-vingt", env=env)
    assert bad.returncode == 2
    assert "amount" in bad.stderr
    unknown = cohort("budget", "set", "--programme", "erbm-2023", "--action", "62-A9",
                     "--year", "2023", "--total", "1", env=env)
    assert unknown.returncode == 2
    assert "action" in unknown.stderr

    out = tmp_path / "rapport.json"
    run = cohort("report", "--programme", "erbm-2023", "--departement", "62", "--year", "2023",
                 "--format", "json", "--mode", "internal", "--as-of", "2024-03-31",
                 "-o", str(out), env=env)
    assert run.returncode == 0, run.stderr
    assert "financial checks: 7/8 passed" in run.stdout
    assert "NOT MET: 62-A3" in run.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["header"]["notice"] == "effectifs exacts — usage interne"
    again = tmp_path / "again.json"
    cohort("report", "--programme", "erbm-2023", "--departement", "62", "--year", "2023",
           "--format", "json", "--mode", "internal", "--as-of", "2024-03-31", "-o", str(again),
           env=env)
    assert again.read_bytes() == out.read_bytes()


def test_publish_stores_the_standard_cuts_once_and_they_are_served_as_computed(
        fresh_database_url: str, keys_file: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(keys_file)}
    assert cohort("demo", "load", "--participants", "40", env=env).returncode == 0
    asked = {d: cohort("indicators", *CUT, "--departement", d, "--format", "json", env=env)
             for d in ("59", "joint")}
    assert all(run.returncode == 0 for run in asked.values())

    first = cohort("publish", "--programme", "erbm-2023", "--as-of", "2024-06-30", env=env)
    assert first.returncode == 0, first.stderr
    assert "published cohorts · joint · 2023-01-01 → 2023-12-31" in first.output
    again = cohort("publish", "--programme", "erbm-2023", "--as-of", "2024-06-30", env=env)
    assert again.returncode == 0, again.stderr
    assert "nothing written" in again.output

    def not_computed(*_: Any, **__: Any) -> Any:
        raise AssertionError("computed live")

    monkeypatch.setattr(queries, "compute_action", not_computed)
    for departement, before in asked.items():
        served = cohort("indicators", *CUT, "--departement", departement, "--format", "json",
                        env=env)
        assert served.returncode == 0, served.stderr
        assert json.loads(served.output) == json.loads(before.output)
