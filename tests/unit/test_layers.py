"""The layers of docs/architecture.md, enforced: who may import whom, and no import circle.

Imports are read with ``ast`` from every module of the package, those inside functions
included (a lazy import is still a dependency; it only hides a circle until run time).
Imports under ``if TYPE_CHECKING:`` are left out: they never run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

import cohort
from cohort.domain import indicator_kinds
from cohort.indicators import catalogue

PACKAGE = Path(cohort.__file__).parent

SHELLS = ("cohort.api", "cohort.web")
READ_SIDE = ("cohort.indicators", "cohort.report")
WEB_FRAMEWORKS = ("flask", "flask_limiter", "flask_smorest", "flask_wtf", "werkzeug",
                  "sqlalchemy")


@cache
def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


@cache
def imports(module: str) -> frozenset[str]:
    """What a module imports, anywhere in it; ``from a import b`` names ``a`` and ``a.b``."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    type_only = {id(inner) for node in ast.walk(tree)
                 if isinstance(node, ast.If) and _is_type_checking(node.test)
                 for stmt in node.body for inner in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(out)


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def is_cli(module: str) -> bool:
    """Command-line modules are shells too (``cohort.cli``, ``cohort.demo_cli``,
    ``cohort.report.cli``…): they may call services wherever they live."""
    last = module.rpartition(".")[2]
    return last == "cli" or last.endswith("_cli")


def offences(importers: list[str], *forbidden: str) -> list[str]:
    return sorted(f"{module} imports {name}" for module in importers
                  for name in imports(module) if within(name, *forbidden))


def of(*packages: str) -> list[str]:
    return [m for m in modules() if within(m, *packages)]


def test_the_pages_never_import_the_api() -> None:
    assert offences(of("cohort.web"), "cohort.api") == []


def test_the_api_never_imports_the_pages() -> None:
    assert offences(of("cohort.api"), "cohort.web") == []


def test_the_shared_shell_module_imports_neither_shell() -> None:
    assert offences(of("cohort.shell"), *SHELLS) == []


def test_command_lines_import_neither_http_shell() -> None:
    assert offences([m for m in modules() if is_cli(m)], *SHELLS) == []


def test_below_the_shells_nothing_imports_them() -> None:
    """Services, models, domain, schemas, read side: none knows a shell exists."""
    lower = [m for m in modules() if not within(m, *SHELLS, "cohort.shell") and not is_cli(m)
             and m != "cohort"]
    assert offences(lower, *SHELLS, "cohort.shell") == []


def test_the_read_side_never_imports_a_service() -> None:
    readers = [m for m in of(*READ_SIDE) if not is_cli(m)]
    assert offences(readers, "cohort.services") == []


def test_services_never_import_the_read_side() -> None:
    assert offences(of("cohort.services"), *READ_SIDE) == []


def test_the_domain_imports_no_framework_nor_database() -> None:
    assert offences(of("cohort.domain"), *WEB_FRAMEWORKS, "cohort.db", "cohort.models",
                    "cohort.request_db", "cohort.services") == []


def test_only_identity_imports_cryptography() -> None:
    others = [m for m in modules() if not within(m, "cohort.identity")]
    assert offences(others, "cryptography") == []


def test_input_schemas_import_no_shell_nor_framework() -> None:
    assert offences(of("cohort.schemas"), *SHELLS, "cohort.shell", "flask") == []


def test_every_indicator_kind_a_programme_may_name_has_a_query() -> None:
    assert set(catalogue.KINDS) == indicator_kinds.KINDS


def _graph() -> dict[str, set[str]]:
    """module → the package modules it imports (a module's own parent packages left out:
    importing a child always runs its parents first, which is no circle)."""
    graph: dict[str, set[str]] = {}
    for module in modules():
        deps = set()
        for name in imports(module):
            while name and name not in modules():
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                deps.add(name)
        graph[module] = deps
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_import_circle_between_modules() -> None:
    """Without a circle, any module imports first in a fresh interpreter."""
    assert _circles(_graph()) == []


def test_the_circle_finder_sees_a_lazy_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("first", [
    ["cohort.web", "cohort.api"],
    ["cohort.api", "cohort.web"],
    ["cohort.shell.errors", "cohort.indicators.catalogue", "cohort.services.programmes"],
])
def test_every_module_imports_in_a_fresh_interpreter(first: list[str]) -> None:
    """The static check's proof at run time: these first, then every module."""
    order = [*first, *sorted(modules())]
    script = ("import importlib, sys\n"
              f"for name in {order!r}:\n"
              "    importlib.import_module(name)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=PACKAGE.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
