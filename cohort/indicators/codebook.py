"""The codebook: what each published figure is, in French, beside the tables (issue 19).

An evaluator's statistician expects, next to a table, each cell's label, definition,
numerator and denominator rules, unit and the disclosure rule applied (INSEE/CASD
practice). Indicators come from the programme file's declarations (label, definition,
numerator, denominator, target), so a new action gets its codebook by editing the file;
cohort cells are fixed by domain.md §7. Pure: it reads declarations, runs no query.
"""

from __future__ import annotations

from typing import Any

from cohort.indicators.cohorts import HORIZON_MONTHS, STATUS_COLUMNS

# The unit of each catalogue kind (what one unit of the value is).
KIND_UNITS = {
    "accompanied": "people", "accompanied_or_operation_event": "people",
    "operations_active": "operations", "planned_hours": "hours", "realised_hours": "hours",
    "events_in_enrolment": "events", "events_on_enrolments": "events",
    "positive_exits": "exits", "people_with_interval": "people",
    "capacity_units": "reinforced_measure_equivalents", "housed_via_programme": "people",
    "housing_exits": "people", "turned_18": "people", "link_person_by_deadline": "people",
    "status_on_date": "people", "followup_checks": "checks",
}
UNIT_LABELS_FR = {
    "people": "personnes", "households": "ménages", "operations": "opérations",
    "hours": "heures", "events": "événements", "exits": "sorties (inscriptions terminées)",
    "reinforced_measure_equivalents": "mesures renforcées équivalentes",
    "checks": "suivis à six mois", "share": "part (0 à 1)",
}
# Parts a kind adds to its value whatever the declaration says (breakdowns are declared).
KIND_PARTS = {"events_on_enrolments": ["people"], "planned_hours": ["fte"],
              "realised_hours": ["fte"], "capacity_units": ["measures"]}
HOUSING_EXIT_REASONS = ("moved_by_choice", "eviction", "other")
PART_LABELS_FR = {
    "value": "valeur",
    "rsa": "dont RSA",
    "under_26": "dont moins de 26 ans",
    "people": "personnes distinctes concernées",
    "fte": "en équivalents temps plein (ETP)",
    "measures": "jeunes concernés",
    "by_moved_by_choice": "dont départ choisi vers un autre logement",
    "by_eviction": "dont expulsion locative",
    "by_other": "dont autre motif",
}
NO_TARGET_FR = "pas de cible dans la fiche action"

# Disclosure rules, by what a cell is.
DISCLOSURE_FR = {
    "count": ("Effectif : masqué s'il vaut de 1 à {k1} (secret primaire) ou si ce qu'il "
              "laisse de côté dans son total vaut de 1 à {k1} ; masqué aussi quand il "
              "permettrait de recalculer une case masquée (secret secondaire) ; arrondi au "
              "multiple de {base} le plus proche."),
    "rate": ("Taux : calculé sur les effectifs publiés (arrondis) ; masqué avec son "
             "numérateur ou son dénominateur, ou quand le complément du numérateur vaut "
             "de 1 à {k1}."),
    "volume": "Volume (heures, ETP) : publié exactement, ce n'est pas un effectif.",
    "capacity": ("Volume pondéré (mesures) : publié exactement, sauf quand le nombre "
                 "d'inscriptions qui le composent vaut de 1 à {k1} ; ce nombre est un "
                 "effectif (règle des effectifs)."),
    "internal": "Mode interne : effectifs exacts, aucun masquage — usage interne.",
}


def unit_of(kind: str, settings: dict[str, Any]) -> str:
    """The unit of an indicator of this kind (62-A5 counts households, not people)."""
    unit = KIND_UNITS.get(kind, "people")
    if unit == "people" and settings.get("participant_kind") == "household":
        return "households"
    return unit


def parts_of(declared: dict[str, Any]) -> list[str]:
    """The parts an indicator shows beside its value: declared breakdowns, then the
    kind's own (the people behind events, FTE, youths behind measures, exit reasons)."""
    parts = list(declared.get("breakdowns", []))
    parts += KIND_PARTS.get(declared["kind"], [])
    if declared["kind"] == "housing_exits":
        reasons = declared.get("params", {}).get("reasons", HOUSING_EXIT_REASONS)
        parts += [f"by_{reason}" for reason in reasons]
    return parts


def disclosure_of(kind: str, *, rate: bool = False) -> str:
    if rate:
        return "rate"
    if kind in ("planned_hours", "realised_hours"):
        return "volume"
    if kind == "capacity_units":
        return "capacity"
    return "count"


def rule_fr(rule: str, *, mode: str, k: int, rounding_base: int) -> str:
    if mode == "internal":
        return DISCLOSURE_FR["internal"]
    return DISCLOSURE_FR[rule].format(k1=k - 1, base=rounding_base)


def _target(action: Any, code: str | None) -> dict[str, Any] | None:
    found = next((t for t in action.targets if t["code"] == code), None) if code else None
    if found is None:
        return None
    keep = {key: found[key] for key in ("code", "label_fr", "value", "min", "max", "unit")
            if key in found}
    keep.setdefault("value", keep.get("max"))
    return keep


def target_fr(target: dict[str, Any] | None) -> str:
    """The target as the sheet says it, or why there is none."""
    if not target:
        return NO_TARGET_FR
    if target.get("min") is not None and target.get("max") is not None:
        return f"{target['label_fr']} : {target['min']} à {target['max']}"
    return f"{target['label_fr']} : {target.get('value')}"


def number_fr(value: Any) -> str:
    """25 · 0,5 · 1 234,5 (no thousands separator: spreadsheets read it back)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}".rstrip("0").replace(".", ",")
    return f"{int(value)}"


def capacity_fr(value: Any, target: dict[str, Any] | None) -> str | None:
    """62-A4's weighted capacity as the sheet writes it: "10 mesures renforcées
    équivalentes sur 20" (one reinforced measure = two simple ones)."""
    if value is None:
        return None
    unit = "mesure renforcée équivalente" if value <= 1 else "mesures renforcées équivalentes"
    text = f"{number_fr(value)} {unit}"
    if target and target.get("value"):
        text += f" sur {number_fr(target['value'])}"
    return text


COHORT_CELLS: list[tuple[str, str, str, str, str]] = [
    # code, French label, definition, unit, disclosure rule
    ("members", "Membres",
     "Personnes dont la première entrée dans les actions choisies (connue à la date "
     "d'arrêté) tombe dans la période de la cohorte ; une ré-entrée n'est jamais une "
     "nouvelle entrée.", "people", "count"),
    ("censored", "Censurés",
     "Membres dont l'horizon est postérieur à la date d'arrêté, ou, pour les horizons "
     "comptés depuis la sortie, qui ne sont pas sortis ; écartés de l'horizon.",
     "people", "count"),
    ("observable", "Observables", "Membres moins censurés.", "people", "count"),
    ("known", "Situation connue",
     "Observables dont la situation à l'horizon est connue : horizon pendant une "
     "inscription, suivi à six mois joint à 45 jours près, ou événement dans les 90 jours "
     "qui précèdent.", "people", "count"),
    *[(status, label, f"Personnes de situation connue {what} à l'horizon.", "people", "count")
      for status, label, what in (
          ("in_pathway", "En parcours",
           "dans un parcours professionnel et/ou scolaire (emploi, formation, scolarité, "
           "dispositif)"),
          ("durable_employment", "En emploi durable",
           "en CDI, création d'entreprise ou contrat de six mois et plus"),
          ("stably_housed", "Logé·e de façon stable",
           "logées de façon stable (locatif social ou privé, bail glissant)"),
          ("has_resources", "Avec des ressources", "disposant de ressources"))],
    *[(f"share_{status}", f"Part {label}",
       f"{label} / situation connue (part des personnes dont la situation est connue).",
       "share", "rate")
      for status, label in (("in_pathway", "en parcours"),
                            ("durable_employment", "en emploi durable"),
                            ("stably_housed", "logées de façon stable"),
                            ("has_resources", "avec des ressources"))],
    ("share_unknown", "Part de situation inconnue",
     "1 − situation connue / observables (« — » quand personne n'est observable).",
     "share", "rate"),
]
HORIZONS_FR = {
    "entry": ("entrée", "Le jour de la première entrée."),
    "exit": ("sortie", "Le dernier jour de la première inscription."),
    "exit_6m": ("sortie + 6 mois", "Six mois calendaires après la sortie."),
    "entry_6m": ("entrée + 6 mois", "Six mois calendaires après l'entrée."),
    "entry_12m": ("entrée + 12 mois", "Douze mois calendaires après l'entrée."),
    "entry_18m": ("entrée + 18 mois", "Dix-huit mois calendaires après l'entrée."),
    "entry_24m": ("entrée + 24 mois", "Vingt-quatre mois calendaires après l'entrée."),
}
assert set(HORIZONS_FR) == set(HORIZON_MONTHS)
assert {c for c, *_ in COHORT_CELLS} >= set(STATUS_COLUMNS)


def build(programme: Any, *, mode: str, k: int, rounding_base: int) -> dict[str, Any]:
    """The codebook of a programme: the indicators of each action's sheet, the common
    follow-up indicators once (``common_indicators``, with the actions that report them:
    engine.compute_action reports them for every action, sheet indicators or not), the
    cohort cells and horizons, and the disclosure rules of the mode."""
    common = programme.settings.get("common_indicators", [])

    def rule(name: str) -> str:
        return rule_fr(name, mode=mode, k=k, rounding_base=rounding_base)

    def entry(declared: dict[str, Any], action: Any, settings: dict[str, Any]) -> dict[str, Any]:
        kind = declared["kind"]
        target = _target(action, declared.get("target")) if action is not None else None
        disclosure = disclosure_of(kind)
        return {
            "code": declared["code"], "kind": kind,
            "label_fr": declared["label_fr"],
            "definition": declared.get("definition", ""),
            "numerator": declared.get("numerator", ""),
            "denominator": declared.get("denominator"),
            "rate_of": declared.get("rate_of"),
            "target": target, "target_fr": target_fr(target),
            "unit": unit_of(kind, settings),
            "unit_fr": UNIT_LABELS_FR[unit_of(kind, settings)],
            "parts": [{"part": p, "label_fr": PART_LABELS_FR.get(p, p)}
                      for p in parts_of(declared)],
            "disclosure": disclosure, "disclosure_fr": rule(disclosure),
            "rate_disclosure_fr": rule("rate") if declared.get("rate_of") else None,
        }

    indicators = [{"action": action.code, **entry(declared, action,
                                                  {**programme.settings, **action.settings})}
                  for action in programme.actions for declared in action.indicators]
    reporting = [action.code for action in programme.actions]
    commons = [{**entry(declared, None, programme.settings), "reported_by": reporting}
               for declared in common]
    cells = [{"code": code, "label_fr": label, "definition": definition, "unit": unit,
              "unit_fr": UNIT_LABELS_FR[unit], "disclosure": disclosure,
              "disclosure_fr": rule(disclosure)}
             for code, label, definition, unit, disclosure in COHORT_CELLS]
    return {
        "programme": programme.code, "title": programme.title, "mode": mode,
        "k": k if mode == "published" else None,
        "rounding_base": rounding_base if mode == "published" else None,
        "indicators": indicators, "common_indicators": commons, "cohort_cells": cells,
        "horizons": [{"code": code, "label_fr": label, "definition": definition}
                     for code, (label, definition) in HORIZONS_FR.items()],
    }


# The Action column of a common indicator in the flat French codebook.
COMMON_FR = "toutes (indicateur commun)"


def rows_fr(book: dict[str, Any]) -> list[list[Any]]:
    """The codebook as one flat French table (the XLSX sheet and the page's order)."""
    rows: list[list[Any]] = []
    common = [{**item, "action": COMMON_FR} for item in book.get("common_indicators", [])]
    for item in [*common, *book["indicators"]]:
        rows.append([item["action"], item["code"], item["label_fr"], item["definition"],
                     item["numerator"], item["denominator"] or "", item["target_fr"],
                     item["unit_fr"],
                     ", ".join(p["label_fr"] for p in item["parts"]),
                     item["disclosure_fr"]
                     + (" " + item["rate_disclosure_fr"] if item["rate_disclosure_fr"] else "")])
    for cell in book["cohort_cells"]:
        rows.append(["cohortes", cell["code"], cell["label_fr"], cell["definition"], "", "",
                     "", cell["unit_fr"], "", cell["disclosure_fr"]])
    for horizon in book["horizons"]:
        rows.append(["horizons", horizon["code"], horizon["label_fr"], horizon["definition"],
                     "", "", "", "", "", ""])
    return rows


ROWS_HEADER_FR = ["Action", "Code", "Libellé", "Définition", "Numérateur", "Dénominateur",
                  "Cible", "Unité", "Détails publiés", "Règle de diffusion"]
