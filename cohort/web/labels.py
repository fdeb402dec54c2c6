"""The pages' one French label map: codes, roles, form fields, navigation; Jinja filters."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from flask import Flask

from cohort.actors import Role
from cohort.domain import followup as followup_enums
from cohort.domain.enums import ALL_ENUMS
from cohort.domain.enums import LABELS_FR as DOMAIN_LABELS
from cohort.indicators.codebook import PART_LABELS_FR

ROLE_LABELS: dict[str, str] = {
    Role.COORDINATOR: "Coordinateur·rice",
    Role.ASE_REFERENT: "Référent·e ASE",
    Role.EVALUATOR: "Évaluateur·rice",
    Role.PILOT: "Pilote du Département",
    Role.ADMIN: "Administrateur·rice",
    Role.SYSTEM: "Système",
}

# Form and table field names (API vocabulary) → French labels.
FIELD_LABELS: dict[str, str] = {
    "last_name": "Nom de naissance",
    "first_names": "Prénom(s)",
    "birth_date": "Date de naissance",
    "sex": "Sexe",
    "nir": "NIR (numéro de sécurité sociale)",
    "caf_number": "Numéro d'allocataire CAF",
    "imilo_id": "Identifiant i-milo",
    "france_travail_id": "Identifiant France Travail",
    "phone": "Téléphone",
    "email": "Adresse e-mail",
    "home_departement": "Département de résidence",
    "home_epci": "EPCI de résidence",
    "ase_past": "Confié(e) à l'ASE",
    "birth_month": "Mois de naissance",
    "date": "Date",
    "type": "Type d'événement",
    "start_date": "Date d'entrée",
    "end_date": "Date de sortie",
    "exit_reason": "Motif de sortie",
    "action_id": "Action",
    "structure_id": "Structure",
    "enrolment_id": "Accompagnement",
    "operation_id": "Opération",
    "closes": "Événement clos",
    "reason": "Motif",
    "purpose": "Motif de la consultation",
    "note": "Note",
    "rsa_at_entry": "Allocataire du RSA à l'entrée",
    "intensity": "Intensité de la mesure",
    "force": "Forcer l'entrée malgré l'éligibilité",
    "force_justification": "Justification",
    "eligibility": "Éligibilité",
    "participant_id": "Personne",
    "link_request_id": "Demande de rapprochement",
    "first_id": "Première fiche",
    "second_id": "Seconde fiche",
    "decision": "Choix",
    "after": "Page",
    "min_shared": "Paires listées",
    "password": "Mot de passe",
    "display_name": "Nom affiché",
    "role": "Rôle",
    "name": "Nom",
    "kind": "Type",
    "departement": "Département",
    # follow-up checks and alerts (web.followups, web.alerts)
    "outcome": "Résultat du suivi",
    "attempts": "Nombre de tentatives de contact",
    "expected_version": "Version lue",
    "reopen": "Rouvrir l'accompagnement",
    "check_id": "Suivi",
    "alert_id": "Alerte",
    "situation": "Situation à la date du suivi",
    "employment_contract": "Emploi",
    "employment_planned_months": "Durée prévue du contrat (en mois)",
    "employment_hours": "Heures par semaine",
    "training": "Formation",
    "school": "Scolarité",
    "scheme": "Dispositif",
    "housing_type": "Logement",
    "resources": "Ressources",
    # event attributes and page-only fields (web.coordination)
    "via_programme": "Obtenu grâce au programme",
    "qualifying": "Formation qualifiante",
    "completed": "Formation menée à son terme",
    "certified": "Certification obtenue",
    "contract": "Type de contrat",
    "planned_months": "Durée prévue (mois)",
    "hours_per_week": "Heures par semaine",
    "dropout": "Décrochage scolaire",
    "resource": "Ressource",
    "child_birth_month": "Mois de naissance de l'enfant",
    "hours": "Nombre d'heures",
    "level": "Niveau de mobilité (1 à 4)",
    "mode": "Mode de contact",
    "parent_child_0_3": "Parent d'un enfant de 0 à 3 ans",
    "created_at": "Enregistrée le",
    # aggregates (web.indicators, web.cohorts, web.reports; "mode" is labelled on the page)
    "programme": "Programme",
    "action": "Action",
    "actions": "Actions",
    "period_from": "Début de la période",
    "period_to": "Fin de la période",
    "as_of": "Données arrêtées au",
    "recorded_before": "Saisies enregistrées avant",
    "grain": "Regroupement des entrées",
    "year": "Année",
    # administration (web.admin)
    "label": "Libellé",
    "days": "Durée de validité (en jours)",
    "active": "Compte actif",
    "confirm": "Confirmation",
    "user": "Utilisateur·rice",
    "target_type": "Type de cible",
    "target_id": "Identifiant de la cible",
    "result": "Résultat",
    "date_from": "Du",
    "date_to": "Au",
}

# Parts of an indicator (breakdowns and details) → French, shown as "dont RSA : 12".
INDICATOR_PARTS: dict[str, str] = PART_LABELS_FR

# The audit log's codes (web.admin's journal viewer); unknown codes are shown as they are.
AUDIT_ACTION_LABELS: dict[str, str] = {
    "login": "Connexion",
    "logout": "Déconnexion",
    "access.refused": "Accès refusé",
    "user.create": "Création d'un compte",
    "user.update": "Modification d'un compte",
    "token.create": "Création d'un jeton d'API",
    "token.revoke": "Révocation d'un jeton d'API",
    "structure.create": "Création d'une structure",
    "structure.update": "Modification d'une structure",
    "operation.create": "Création d'une opération",
    "operation.update": "Modification d'une opération",
    "second_factor.enable": "Double authentification activée",
    "second_factor.recovery_code": "Code de secours utilisé",
    "second_factor.reset": "Double authentification réinitialisée",
    "participant.read": "Consultation d'un parcours",
    "participant.identity_read": "Consultation d'une identité",
    "export.identities": "Export de fichiers avec les identités",
    "participant.already_known": "Personne déjà connue",
    "participant.exceptional_access": "Accès exceptionnel",
    "participant.erase": "Effacement d'identité",
    "erasure.request": "Demande d'effacement",
    "erasure.approve": "Effacement approuvé (seconde décision)",
    "erasure.reject": "Demande d'effacement refusée",
    "participant.erase_replayed": "Effacement rejoué (restauration)",
    "participant.join": "Suivi partagé : une structure de plus suit la personne",
    "participant.link": "Rapprochement de doublons",
    "participant.unlink": "Annulation d'un rapprochement",
    "link_request.file": "Demande de rapprochement déposée",
    "link_request.accept": "Demande de rapprochement acceptée",
    "link_request.reject": "Demande de rapprochement refusée",
    "duplicates.report_viewed": "Consultation du rapport des doublons",
    "duplicates.dismiss": "Paire de doublons écartée",
    "alert.list": "Consultation des alertes",
    "alert.acknowledge": "Alerte prise en compte",
    "alert.close": "Alerte clôturée",
    "indicators.query": "Consultation d'indicateurs",
    "cohorts.query": "Consultation de cohortes",
    "report.generate": "Génération d'un rapport",
    "budget.record": "Saisie budgétaire",
    "keys.rotate.start": "Rotation des clés : début",
    "keys.rotate.done": "Rotation des clés : terminée",
    "keys.retire": "Retrait d'une version de clé",
    "audit.purge": "Purge du journal (durée de conservation)",
}
AUDIT_OUTCOME_LABELS: dict[str, str] = {"ok": "Réussi", "refused": "Refusé"}
AUDIT_TARGET_LABELS: dict[str, str] = {
    "user": "Compte", "api_token": "Jeton d'API", "structure": "Structure",
    "participant": "Personne", "participant_link": "Rapprochement", "alert": "Alerte",
    "action": "Action", "link_request": "Demande de rapprochement",
    "duplicate_dismissal": "Paire de doublons écartée",
}
ERASURE_MODE_LABELS: dict[str, str] = {
    "keep_pathway": "Parcours conservé (pseudonyme, toujours compté)",
    "delete_pathway": "Parcours supprimé",
}
ERASURE_CAUSE_LABELS: dict[str, str] = {"request": "Demande", "retention": "Durée de conservation"}
KEY_PURPOSE_LABELS: dict[str, str] = {
    "encryption": "Chiffrement des identités",
    "pseudonym": "Pseudonyme (index aveugle)",
    "nir": "Empreinte du NIR",
    "similarity": "Clés de similarité (doublons possibles)",
}

# The navigation: (endpoint, label, roles). Entries whose page does not exist are left out.
NAVIGATION: list[tuple[str, str, tuple[Role, ...]]] = [
    ("web.home", "Accueil", tuple(Role)),
    ("web.caseload_list", "File active", (Role.COORDINATOR,)),
    ("web.participant_search", "Personnes suivies",
     (Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)),
    ("web.worklist", "Suivis à 6 mois", (Role.COORDINATOR, Role.ADMIN)),
    ("web.alerts", "Alertes", (Role.ASE_REFERENT, Role.ADMIN)),
    ("web.indicators", "Indicateurs", (Role.EVALUATOR, Role.PILOT, Role.ADMIN)),
    ("web.cohorts", "Cohortes", (Role.EVALUATOR, Role.PILOT, Role.ADMIN)),
    ("web.reports", "Rapports", (Role.EVALUATOR, Role.PILOT, Role.ADMIN)),
    ("web.codebook", "Dictionnaire", (Role.EVALUATOR, Role.PILOT, Role.ADMIN)),
    ("web.admin_home", "Administration", (Role.ADMIN,)),
]

_ENUMS: dict[str, type[StrEnum]] = {e.__name__: e for e in ALL_ENUMS}
_ENUMS.update({name: value for name, value in vars(followup_enums).items()
               if isinstance(value, type) and issubclass(value, StrEnum)})


def _enum(enum: type[StrEnum] | str) -> type[StrEnum]:
    """The enum itself; templates may name it ('ExitReason')."""
    return _ENUMS[enum] if isinstance(enum, str) else enum


def code_fr(value: Any, enum: type[StrEnum] | str) -> str:
    """French label of a code of the enum (the code itself if it is not one)."""
    if value is None or value == "":
        return "—"
    enum = _enum(enum)
    try:
        member = enum(str(value))
    except ValueError:
        return str(value)
    label = DOMAIN_LABELS.get((enum, member.value)) or followup_enums.LABELS_FR.get(member)
    return label or str(value)


def choices(enum: type[StrEnum] | str) -> list[tuple[str, str]]:
    """(code, French label) of every member of an enum, for a <select>."""
    members = _enum(enum)
    return [(m.value, code_fr(m.value, members)) for m in members]


def date_fr(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime) and value.tzinfo is not None:  # a moment: its day in France
        from cohort.clock import PARIS

        value = value.astimezone(PARIS)
    return f"{value:%d/%m/%Y}"


def datetime_fr(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    from cohort.clock import PARIS

    if value.tzinfo is not None:
        value = value.astimezone(PARIS)
    return f"{value:%d/%m/%Y à %H:%M}"


def field_fr(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def number_fr(value: Any) -> str:
    """1 234,5 — French separators (narrow no-break space for thousands)."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    text = f"{float(value):,.1f}".replace(",", "\u202f").replace(".", ",")
    return text.removesuffix(",0")


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(code_fr=code_fr, date_fr=date_fr, datetime_fr=datetime_fr,
                                 field_fr=field_fr, number_fr=number_fr)
    app.jinja_env.globals.update(ROLE_LABELS=ROLE_LABELS, choices=choices)
