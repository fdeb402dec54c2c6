"""French wording of refusals for the pages.

Services and schemas refuse in English (the API's contract); the pages show the same refusal
in French next to the field. Unknown wording falls back to a generic French sentence rather
than English: tests/web/test_messages.py checks every literal refusal of the services has
its translation here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cohort.domain.enums import StructureKind, label_fr

_FLAGS_FR = {
    "RSA recipient at entry": "être allocataire du RSA à l'entrée",
    "under 26 at entry": "avoir moins de 26 ans à l'entrée",
    "ASE past (child welfare)": "avoir été confié(e) à l'ASE",
    "parent of a child aged 0-3": "être parent d'un enfant de 0 à 3 ans",
}


def _kind(code: str) -> str:
    try:
        return label_fr(StructureKind(code))
    except ValueError:
        return code


def _kinds(text: str) -> str:
    return ", ".join(_kind(part) for part in text.split(", "))


def _flags(text: str) -> str:
    return " ou ".join(_FLAGS_FR.get(part, part) for part in text.split(" or "))


# (pattern, French) — a French text may use the pattern's groups.
_PATTERNS: list[tuple[str, Any]] = [
    # marshmallow's own messages
    (r"Missing data for required field\.", "Ce champ est obligatoire."),
    (r"Field may not be null\.", "Ce champ est obligatoire."),
    (r"Not a valid date(?: \(expected YYYY-MM-DD\))?\.", "Date invalide (jj/mm/aaaa)."),
    (r"Not a valid datetime\.", "Date et heure invalides."),
    (r"Not a valid integer\.", "Nombre entier attendu."),
    (r"Not a valid number\.", "Nombre attendu."),
    (r"Not a valid (decimal|amount).*", "Montant invalide."),
    (r"Not a valid boolean\.", "Oui ou non attendu."),
    (r"Not a valid UUID\.", "Identifiant invalide."),
    (r"Not a valid email address\.", "Adresse e-mail invalide."),
    (r"Not a valid string\.", "Texte attendu."),
    (r"Must be one of: .*", "Choisissez une valeur de la liste."),
    (r"Unknown field\.", "Champ inattendu."),
    (r"Shorter than minimum length (\d+)\.", lambda m: f"Au moins {m[1]} caractères."),
    (r"Longer than maximum length (\d+)\.", lambda m: f"Au plus {m[1]} caractères."),
    (r"Length must be between (\d+) and (\d+)\.",
     lambda m: f"Entre {m[1]} et {m[2]} caractères."),
    (r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.",
     lambda m: f"Valeur entre {m[1]} et {m[2]} attendue."),
    (r"Must be greater than or equal to (\S+)\.", lambda m: f"Valeur d'au moins {m[1]}."),
    (r"Must be less than or equal to (\S+)\.", lambda m: f"Valeur d'au plus {m[1]}."),
    (r"String does not match expected pattern\.", "Format invalide."),
    (r"must not contain (?:a NUL character|an unpaired surrogate \(not a character\))",
     "Caractère interdit."),
    # the services' refusals (the reason part of Rejected/Conflict/NotFound)
    (r"approved", "Cette demande a déjà été approuvée."),
    (r"rejected", "Cette demande a été refusée."),
    (r"person gone", "La personne n'existe plus (déjà effacée avec son parcours)."),
    (r"asked by you: another administrator decides",
     "Vous avez fait cette demande : un·e autre administrateur·rice décide."),
    (r"the administrator who asked for an erasure cannot decide it",
     "Vous avez fait cette demande : un·e autre administrateur·rice décide."),
    (r"is not the current code of the application",
     "Ce code n'est pas celui affiché par l'application (ou a déjà servi)."),
    (r"already active", "La double authentification est déjà active."),
    (r"not started", "Aucune double authentification n'est en cours d'activation."),
    (r"only an administrator resets a second factor",
     "Seul un administrateur peut réinitialiser la double authentification."),
    (r"too easy to guess: use a passphrase of several unrelated words",
     "Mot de passe trop facile à deviner : choisissez une phrase de plusieurs mots sans "
     "rapport entre eux."),
    (r"the period may cover at most (\d+) months with grain=\w+",
     lambda m: f"La période ne peut dépasser {m[1]} mois pour ce découpage."),
    (r"the query took longer than \S+ s and was stopped: narrow the period",
     "Le calcul a dépassé le temps permis : réduisez la période."),
    (r"is in the future", "Cette date est dans le futur."),
    (r"is implausibly old", "Cette date de naissance n'est pas plausible."),
    (r"is before the participant's birth", "Cette date est antérieure à la naissance."),
    (r"is before the start date", "La date de fin précède la date de début."),
    (r"is before the enrolment's start date",
     "La date de fin précède le début de l'accompagnement."),
    (r"is before the start of its enrolment",
     "Cette date précède le début de l'accompagnement choisi."),
    (r"is after the end of its enrolment",
     "Cette date est postérieure à la fin de l'accompagnement choisi."),
    (r"is a cancelled enrolment",
     "Cet accompagnement a été annulé : rien ne peut plus y être rattaché."),
    (r"a reason is required to cancel an enrolment",
     "Indiquez le motif de l'annulation."),
    (r"a correction is for the corrected event's participant",
     "La correction doit concerner la même personne que l'événement corrigé."),
    (r"is more than one year before the participant's first enrolment",
     "Cette date précède de plus d'un an la première entrée dans une action."),
    (r"is before the check's window opens \((\d{4})-(\d\d)-(\d\d)\)",
     lambda m: f"Le suivi ne peut être saisi qu'à partir du {m[3]}/{m[2]}/{m[1]}."),
    (r"no open interval of this family to close on this date",
     "Aucune période en cours de ce type à clore à cette date."),
    (r"names no event of this participant", "Cet événement n'appartient pas à la personne."),
    (r"only an end event can close an interval",
     "Seul un événement de fin peut clore une période."),
    (r"names an event of another family than (.+)",
     "Cet événement relève d'une autre famille d'événements."),
    (r"belongs to another participant", "Cet accompagnement est celui d'une autre personne."),
    (r"required for an? (\S+) event", "Ce champ est obligatoire pour ce type d'événement."),
    (r"required to force an enrolment",
     "Une justification écrite est nécessaire pour forcer l'entrée."),
    (r"required for this action \(simple or reinforced\)",
     "Précisez l'intensité de la mesure (simple ou renforcée)."),
    (r"is an action of another département \((\S+)\) than the structure's",
     "Cette action relève d'un autre département que celui de votre structure."),
    (r"is not run by structures of kind (\S+) \(run by: none declared\)",
     "Aucun type de structure n'est déclaré pour mener cette action."),
    (r"is not run by structures of kind (\S+) \(run by: (.+)\)",
     lambda m: f"Cette action n'est pas menée par une structure de type « {_kind(m[1])} » "
               f"(elle est menée par : {_kinds(m[2])})."),
    (r"requires: (.+)", lambda m: f"Condition non remplie : {_flags(m[1])}."),
    (r"requires one of: (.+)", lambda m: f"Condition non remplie : {_flags(m[1])}."),
    (r"requires an age between (\d+) and (\d+) at entry",
     lambda m: f"Condition non remplie : avoir entre {m[1]} et {m[2]} ans à l'entrée."),
    (r"requires an age of at least (\d+) at entry",
     lambda m: f"Condition non remplie : avoir au moins {m[1]} ans à l'entrée."),
    (r"requires an age of at most (\d+) at entry",
     lambda m: f"Condition non remplie : avoir au plus {m[1]} ans à l'entrée."),
    (r"does not match the birth date", "Le NIR ne correspond pas à la date de naissance."),
    (r"not a valid NIR \(format or control key\)", "NIR invalide (format ou clé)."),
    (r"must contain at least one letter or digit", "Au moins une lettre ou un chiffre."),
    (r"a reason is required to void an event", "Indiquez le motif de l'annulation."),
    (r"say why, in at least 10 characters", "Expliquez pourquoi (10 caractères au moins)."),
    (r"a note is required to close an alert", "Une note est nécessaire pour clôturer."),
    (r"required when the participant was not reached",
     "Obligatoire quand le jeune n'a pas été joint."),
    (r"required when the participant was reached",
     "Le jeune a été joint : renseignez au moins un élément de sa situation."),
    (r"only when the participant was reached",
     "Seulement quand le jeune a été joint : laissez la situation « non demandé »."),
    (r"give at least one element of the situation",
     "Renseignez au moins un élément de la situation."),
    (r"a value is listed twice", "Une valeur est cochée deux fois."),
    (r"required for a fixed-term contract",
     "Obligatoire pour un contrat à durée déterminée."),
    (r"has no enrolment yet: enrol the participant first",
     "La personne n'a encore aucun accompagnement : inscrivez-la d'abord dans une action."),
    (r"identity erased(: .*)?", "L'identité de cette personne a été effacée."),
    (r"at least (\d+) characters", lambda m: f"Au moins {m[1]} caractères."),
    (r"at most (\d+) characters", lambda m: f"Au plus {m[1]} caractères."),
    (r"must be one of .+", "Choisissez une valeur de la liste."),
    (r"between (\d+) and (\d+)", lambda m: f"Entre {m[1]} et {m[2]}."),
    (r"exceeds the departement share", "Dépasse la part du Département."),
    (r"outside the programme \((\d+)–(\d+)\)",
     lambda m: f"En dehors du programme ({m[1]}–{m[2]})."),
    (r"a participant cannot be linked to itself",
     "Une personne ne peut pas être rapprochée d'elle-même."),
    (r"is itself linked into another participant",
     "Cette personne est elle-même rattachée à une autre."),
    (r"other participants are linked into it: link them to the survivor instead",
     "D'autres personnes y sont rattachées : rattachez-les plutôt à la personne retenue."),
    (r"one of (.+)", "Choisissez une valeur de la liste."),
    (r"published or internal", "Mode publié ou interne."),
    (r"published only for your role",
     "Votre rôle donne accès aux effectifs publiés seulement (secret statistique) ; les "
     "effectifs exacts sont réservés aux pilotes et aux administrateurs."),
    (r"internal mode not allowed for .+",
     "Effectifs exacts réservés aux actions de votre département."),
    (r"administrators only", "Réservé aux administrateurs."),
    (r"the population or its complement is below the disclosure threshold of (\d+)",
     lambda m: f"Population trop petite pour être publiée : elle compte moins de {m[1]} "
               f"personnes, ou il en reste moins de {m[1]} en dehors. Choisissez un "
               f"département ou une période plus large."),
    (r"is after period_to", "Le début de la période est après sa fin."),
    (r"must be the first day of a month", "Choisissez le premier jour d'un mois."),
    (r"must be the last day of a month", "Choisissez le dernier jour d'un mois."),
    (r"must be on or before (\d{4})-(\d\d)-(\d\d)( \(the end of the last complete month\))?",
     lambda m: f"Au plus tard le {m[3]}/{m[2]}/{m[1]}"
               + (" (fin du dernier mois complet)." if m[4] else ".")),
    (r"unknown action\(s\).*", "Action inconnue."),
    (r"not found among the people your structure follows: register the person first.*",
     "Introuvable parmi les personnes que suit votre structure : enregistrez d'abord la "
     "personne."),
    (r"not found", "Introuvable."),
    (r"is empty", "Ce champ est vide."),
    (r"1-40 letters, digits, '\.', '_', '/' or '-'",
     "1 à 40 lettres, chiffres, « . », « _ », « / » ou « - »."),
    (r"already used", "Déjà utilisé."),
    (r"already names another participant in this structure",
     "Ce numéro de dossier désigne déjà une autre personne dans cette structure."),
    (r"a file number needs the structure.*", "Un numéro de dossier suppose la structure."),
    (r"name the participant one way only.*", "Désignez la personne d'une seule façon."),
    (r"differs from the operation recorded with this code",
     "Diffère de l'opération enregistrée sous ce code."),
    (r"the participant has no open enrolment in this action.*",
     "La personne n'a pas d'accompagnement en cours dans cette action."),
    (r"no enrolment of the participant in this action starts that day",
     "Aucun accompagnement de la personne dans cette action ne commence ce jour-là."),
    (r"give enrolment_id or the participant and action_code, not both",
     "Désignez l'accompagnement d'une seule façon."),
    (r"required with end_date", "Obligatoire avec une date de fin."),
    (r"required with exit_reason", "Obligatoire avec un motif de sortie."),
    (r"give participant_id or participant, not both",
     "Désignez la personne d'une seule façon."),
    (r"give the NIR or the identity, not both", "Donnez le NIR ou l'identité, pas les deux."),
    (r"already (changed|recorded) by someone else",
     "Quelqu'un d'autre l'a modifié entre-temps : rechargez la page."),
    (r"identical to an event already recorded",
     "Un événement identique (même type, même date, mêmes détails) est déjà enregistré."),
    (r"already erased", "L'identité de cette personne est déjà effacée."),
    (r"already exists", "Existe déjà."),
    (r"already linked", "Déjà rattaché(e) à une autre personne."),
    (r"no close record is followed by another structure",
     "Aucune fiche proche n'est suivie par une autre structure : rien à rapprocher."),
    (r"is not held by another record", "Ce NIR n'appartient à aucune autre fiche."),
    (r"already rejected", "Cette demande a déjà été refusée."),
    (r"already accepted", "Cette demande a déjà été acceptée."),
    (r"must be another participant than first_id", "Choisissez deux fiches différentes."),
    (r"not a page cursor of this report", "Page du rapport inconnue : repartez du début."),
    (r"already registered under another identity",
     "Déjà enregistré pour une autre identité."),
    (r"differs from the NIR registered for this identity",
     "Diffère du NIR enregistré pour cette identité."),
    (r"already undone", "Déjà annulé."),
    (r"already used for a different event",
     "Identifiant déjà utilisé pour un autre événement."),
    (r"an open enrolment already exists|another enrolment is open",
     "Un accompagnement est déjà en cours dans cette action."),
    (r"closed", "Déjà clôturée."),
    (r"the check is already done", "Ce suivi est déjà réalisé."),
    (r"is current", "C'est la version en cours."),
    (r"still in use", "Encore utilisée."),
    (r"already voided", "Cet événement est déjà annulé."),
    (r"already ended", "Cet accompagnement est déjà clos."),
    (r"not an open period of the participant",
     "Ce n'est pas une période en cours de la personne."),
    (r"recorded by another structure: only it may end this period",
     "Période saisie par une autre structure : seule celle-ci peut la clore."),
    (r"period listed twice", "Cette période est demandée deux fois."),
    (r"unknown kind", "Type de ligne inconnu."),
    (r"not ended", "Cet accompagnement n'est pas clos."),
    (r"stale", "Les données ont changé entre-temps : rechargez la page."),
    (r"already recorded", "Ce suivi a déjà été saisi."),
    (r"cancelled", "Ce suivi a été annulé."),
]
_COMPILED = [(re.compile(pattern), french) for pattern, french in _PATTERNS]

GENERIC = "Valeur refusée."


def french(reason: str) -> str:
    """The French sentence for an English refusal reason (never echoes the input)."""
    for pattern, text in _COMPILED:
        match = pattern.fullmatch(reason.strip())
        if match:
            return text(match) if callable(text) else str(text)
    return GENERIC


def has_translation(reason: str) -> bool:
    return french(reason) != GENERIC


def french_errors(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """marshmallow or service error messages → {field: [French sentence, …]}.

    Nested messages (a list of dicts, a dict of lists) are flattened onto the top field.
    """
    out: dict[str, list[str]] = {}
    for field, messages in errors.items():
        out[field] = sorted({french(m) for m in _leaves(messages)})
    return out


def _leaves(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, Mapping):
        return [leaf for value in messages.values() for leaf in _leaves(value)]
    if isinstance(messages, list | tuple):
        return [leaf for value in messages for leaf in _leaves(value)]
    return [str(messages)]
