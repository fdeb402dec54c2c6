"""Every refusal the services can give has its French wording on the pages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cohort.config import PROJECT_ROOT
from cohort.web.messages import GENERIC, french, french_errors, has_translation

# Refusals only the operator's command line can meet (never shown on a page).
CLI_ONLY_FIELDS = {"DATABASE_URL", "ledger", "file", "keys", "structures", "today",
                   "participants", "ERASURE_LEDGER_FILE"}


def _literal_refusals() -> list[str]:
    found: list[str] = []
    for path in sorted(Path(PROJECT_ROOT / "cohort").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "Rejected" and len(node.args) >= 2:
                field, reason = node.args[0], node.args[1]
                if (isinstance(field, ast.Constant) and field.value in CLI_ONLY_FIELDS):
                    continue
                if isinstance(reason, ast.Constant) and isinstance(reason.value, str):
                    found.append(reason.value)
            if node.func.id in ("Conflict", "NotFound"):
                for keyword in node.keywords:
                    if keyword.arg == "errors" and isinstance(keyword.value, ast.Dict):
                        for key, value in zip(keyword.value.keys, keyword.value.values,
                                              strict=True):
                            if isinstance(key, ast.Constant) and key.value in CLI_ONLY_FIELDS:
                                continue
                            if isinstance(value, ast.List):
                                found += [e.value for e in value.elts
                                          if isinstance(e, ast.Constant)]
    return sorted(set(found))


@pytest.mark.parametrize("reason", _literal_refusals())
def test_every_literal_refusal_has_a_french_wording(reason: str) -> None:
    assert has_translation(reason), reason


@pytest.mark.parametrize(("english", "expected"), [
    ("is before the check's window opens (2024-12-01)",
     "Le suivi ne peut être saisi qu'à partir du 01/12/2024."),
    ("requires one of: RSA recipient at entry or ASE past (child welfare)",
     "Condition non remplie : être allocataire du RSA à l'entrée ou avoir été confié(e) à "
     "l'ASE."),
    ("requires an age between 16 and 25 at entry",
     "Condition non remplie : avoir entre 16 et 25 ans à l'entrée."),
    ("at least 12 characters", "Au moins 12 caractères."),
    ("Missing data for required field.", "Ce champ est obligatoire."),
    ("Not a valid date.", "Date invalide (jj/mm/aaaa)."),
    ("Not a valid date (expected YYYY-MM-DD).", "Date invalide (jj/mm/aaaa)."),
    ("must not contain a NUL character", "Caractère interdit."),
    ("must not contain an unpaired surrogate (not a character)", "Caractère interdit."),
])
def test_parametrised_refusals_read_naturally(english: str, expected: str) -> None:
    assert french(english) == expected


def test_unknown_wording_never_echoes_the_input() -> None:
    assert french("Dupont is not allowed") == GENERIC
    assert french_errors({"attributes": {"hours": ["Not a valid number."]}}) == {
        "attributes": ["Nombre attendu."]}
