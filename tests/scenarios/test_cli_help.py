"""A newcomer's first `cohort --help`: the whole command tree documents itself with no key,
no database and no COHORT_* variable, and a command that needs keys still refuses clearly.

Each `--help` runs in a process of its own, as typed in a terminal: a command that
imported or built something at start-up that it cannot have there would fail here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

COHORT = Path(sys.executable).with_name("cohort")
COMMAND_LINE = re.compile(r"^  (\S+)\s")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("COHORT_", "FLASK_"))}


def cohort(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(COHORT), *args], env=clean_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def subcommands(help_text: str) -> list[str]:
    """The names listed under "Commands:" in a group's help."""
    if "\nCommands:\n" not in help_text:
        return []
    listed = help_text.split("\nCommands:\n", 1)[1]
    return [m.group(1) for line in listed.splitlines() if (m := COMMAND_LINE.match(line))]


@pytest.mark.slow
def test_every_help_works_with_no_keys_no_database_and_no_settings(tmp_path: Path) -> None:
    seen: dict[tuple[str, ...], str] = {}
    level: list[tuple[str, ...]] = [()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        while level:
            runs = list(pool.map(lambda path: cohort(*path, "--help", cwd=tmp_path), level))
            following: list[tuple[str, ...]] = []
            for path, run in zip(level, runs, strict=True):
                shown = " ".join(("cohort", *path))
                assert run.returncode == 0, f"{shown} --help: {run.stderr}"
                assert run.stdout.startswith(f"Usage: {shown} "), run.stdout
                assert run.stderr == "", f"{shown} --help: {run.stderr}"
                seen[path] = run.stdout
                following += [(*path, name) for name in subcommands(run.stdout)]
            level = following
    commands = {" ".join(path) for path in seen}
    assert {"db upgrade", "keys new", "keys status", "programme load", "demo load",
            "demo users", "import events", "followups remind", "report", "budget set",
            "indicators", "cohorts", "audit verify"} <= commands
    assert list(tmp_path.iterdir()) == []  # no database, instance folder or key file created


@pytest.mark.parametrize("command", [
    ("db", "upgrade"),  # the settings and key checks without the app
    ("keys", "status"),  # the app itself
])
def test_a_command_that_needs_keys_refuses_naming_the_setting(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    run = cohort(*command, cwd=tmp_path)
    assert run.returncode == 2
    assert "error: configuration: KEYS_FILE: missing" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_report_command_offers_every_format_the_writers_know() -> None:
    from cohort.report.cli import REPORT_FORMATS
    from cohort.report.output import FORMATS

    assert tuple(sorted(FORMATS)) == REPORT_FORMATS
