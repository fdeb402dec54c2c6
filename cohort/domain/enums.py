"""Stable English codes (the API and database vocabulary) and their French labels."""

from __future__ import annotations

from enum import StrEnum


class Departement(StrEnum):
    NORD = "59"
    PAS_DE_CALAIS = "62"
    JOINT = "joint"


class StructureKind(StrEnum):
    MISSION_LOCALE = "mission_locale"
    PLIE = "plie"
    MDE = "mde"
    CLLAJ = "cllaj"
    BAILLEUR = "bailleur"
    CRECHE = "creche"
    SIAE = "siae"
    MDS = "mds"
    SOCIAL_SUPPORT = "social_support"
    DDETS = "ddets"
    DEPARTEMENT = "departement"
    OTHER = "other"


class OperationKind(StrEnum):
    CLAUSE_SITE = "clause_site"
    INSERTION_OPERATION = "insertion_operation"
    CRECHE_PROJECT = "creche_project"
    HOUSING_PARTNER = "housing_partner"
    OTHER = "other"


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class Intensity(StrEnum):
    SIMPLE = "simple"
    REINFORCED = "reinforced"


class ExitReason(StrEnum):
    EMPLOYMENT = "employment"
    TRAINING = "training"
    HOUSING_OBTAINED = "housing_obtained"
    MOVED_AWAY = "moved_away"
    END_OF_SUPPORT = "end_of_support"
    SUPPORT_REFUSED = "support_refused"
    LOST_CONTACT = "lost_contact"
    AGE_LIMIT = "age_limit"
    OTHER = "other"


class EventType(StrEnum):
    HOUSING_ENTRY = "housing_entry"
    HOUSING_EXIT = "housing_exit"
    TRAINING_START = "training_start"
    TRAINING_END = "training_end"
    EMPLOYMENT_START = "employment_start"
    EMPLOYMENT_END = "employment_end"
    SCHOOL_ENROLMENT = "school_enrolment"
    SCHOOL_EXIT = "school_exit"
    SCHEME_ENTRY = "scheme_entry"
    SCHEME_EXIT = "scheme_exit"
    RESOURCE_START = "resource_start"
    RESOURCE_END = "resource_end"
    SUPPORT_BREAK = "support_break"
    SUPPORT_RESUMED = "support_resumed"
    LINK_PERSON_CHOSEN = "link_person_chosen"
    CHILDCARE_START = "childcare_start"
    CHILDCARE_END = "childcare_end"
    CLAUSE_HOURS = "clause_hours"
    MOBILITY_ASSESSMENT = "mobility_assessment"
    CONTACT = "contact"


class Family(StrEnum):
    """Interval families: a start and the end that closes it belong to one family."""

    HOUSING = "housing"
    TRAINING = "training"
    EMPLOYMENT = "employment"
    SCHOOL = "school"
    SCHEME = "scheme"
    RESOURCE = "resource"
    SUPPORT_BREAK = "support_break"
    CHILDCARE = "childcare"


class HousingType(StrEnum):
    SOCIAL_RENTAL = "social_rental"
    PRIVATE_RENTAL = "private_rental"
    SLIDING_LEASE = "sliding_lease"
    YOUTH_RESIDENCE = "youth_residence"
    SOCIAL_RESIDENCE = "social_residence"
    FAMILY = "family"
    THIRD_PARTY = "third_party"
    EMERGENCY_SHELTER = "emergency_shelter"
    STREET = "street"
    OTHER = "other"


class HousingExitReason(StrEnum):
    MOVED_BY_CHOICE = "moved_by_choice"
    EVICTION = "eviction"
    OTHER = "other"


class Contract(StrEnum):
    CDI = "cdi"
    CDD = "cdd"
    TEMPORARY_AGENCY = "temporary_agency"
    SUBSIDISED = "subsidised"
    SIAE = "siae"
    APPRENTICESHIP = "apprenticeship"
    BUSINESS_CREATION = "business_creation"


class Scheme(StrEnum):
    PACEA = "pacea"
    CEJ = "cej"
    E2C = "e2c"
    EPIDE = "epide"
    OTHER = "other"


class Resource(StrEnum):
    YOUNG_ADULT_ALLOWANCE = "young_adult_allowance"
    CEJ_ALLOWANCE = "cej_allowance"
    RSA = "rsa"
    WAGE = "wage"
    AAH = "aah"
    GRANT = "grant"
    FAJ = "faj"
    OTHER = "other"


class ContactMode(StrEnum):
    HOME_VISIT = "home_visit"
    MEETING = "meeting"
    PHONE = "phone"


_LABEL_PAIRS: tuple[tuple[StrEnum, str], ...] = (
    (Departement.NORD, "Nord (59)"),
    (Departement.PAS_DE_CALAIS, "Pas-de-Calais (62)"),
    (Departement.JOINT, "Actions communes"),
    (StructureKind.MISSION_LOCALE, "Mission Locale"),
    (StructureKind.PLIE, "PLIE"),
    (StructureKind.MDE, "Maison de l'Emploi"),
    (StructureKind.CLLAJ, "CLLAJ"),
    (StructureKind.BAILLEUR, "Bailleur social"),
    (StructureKind.CRECHE, "Crèche"),
    (StructureKind.SIAE, "SIAE"),
    (StructureKind.MDS, "Maison du Département Solidarité"),
    (StructureKind.SOCIAL_SUPPORT, "Opérateur d'accompagnement social (FSL)"),
    (StructureKind.DDETS, "DDETS"),
    (StructureKind.DEPARTEMENT, "Département"),
    (StructureKind.OTHER, "Autre structure"),
    (OperationKind.CLAUSE_SITE, "Chantier avec clause d'insertion"),
    (OperationKind.INSERTION_OPERATION, "Opération d'insertion"),
    (OperationKind.CRECHE_PROJECT, "Projet de crèche"),
    (OperationKind.HOUSING_PARTNER, "Partenariat logement"),
    (OperationKind.OTHER, "Autre opération"),
    (Sex.FEMALE, "Femme"),
    (Sex.MALE, "Homme"),
    (Sex.UNKNOWN, "Non renseigné"),
    (Intensity.SIMPLE, "Mesure simple"),
    (Intensity.REINFORCED, "Mesure renforcée"),
    (ExitReason.EMPLOYMENT, "Emploi"),
    (ExitReason.TRAINING, "Formation"),
    (ExitReason.HOUSING_OBTAINED, "Logement obtenu"),
    (ExitReason.MOVED_AWAY, "Déménagement"),
    (ExitReason.END_OF_SUPPORT, "Fin d'accompagnement"),
    (ExitReason.SUPPORT_REFUSED, "Refus d'accompagnement"),
    (ExitReason.LOST_CONTACT, "Perdu de vue"),
    (ExitReason.AGE_LIMIT, "Limite d'âge"),
    (ExitReason.OTHER, "Autre motif"),
    (EventType.HOUSING_ENTRY, "Entrée dans un logement"),
    (EventType.HOUSING_EXIT, "Sortie du logement"),
    (EventType.TRAINING_START, "Début de formation"),
    (EventType.TRAINING_END, "Fin de formation"),
    (EventType.EMPLOYMENT_START, "Début d'emploi"),
    (EventType.EMPLOYMENT_END, "Fin d'emploi"),
    (EventType.SCHOOL_ENROLMENT, "Inscription scolaire"),
    (EventType.SCHOOL_EXIT, "Sortie de scolarité"),
    (EventType.SCHEME_ENTRY, "Entrée en dispositif"),
    (EventType.SCHEME_EXIT, "Sortie de dispositif"),
    (EventType.RESOURCE_START, "Ouverture de ressources"),
    (EventType.RESOURCE_END, "Fin de ressources"),
    (EventType.SUPPORT_BREAK, "Rupture d'accompagnement"),
    (EventType.SUPPORT_RESUMED, "Reprise d'accompagnement"),
    (EventType.LINK_PERSON_CHOSEN, "Choix de la personne lien"),
    (EventType.CHILDCARE_START, "Début de garde en crèche"),
    (EventType.CHILDCARE_END, "Fin de garde en crèche"),
    (EventType.CLAUSE_HOURS, "Heures d'insertion réalisées"),
    (EventType.MOBILITY_ASSESSMENT, "Diagnostic mobilité"),
    (EventType.CONTACT, "Contact"),
    (Family.HOUSING, "Logement"),
    (Family.TRAINING, "Formation"),
    (Family.EMPLOYMENT, "Emploi"),
    (Family.SCHOOL, "Scolarité"),
    (Family.SCHEME, "Dispositif"),
    (Family.RESOURCE, "Ressources"),
    (Family.SUPPORT_BREAK, "Rupture d'accompagnement"),
    (Family.CHILDCARE, "Garde d'enfant"),
    (HousingType.SOCIAL_RENTAL, "Logement locatif social"),
    (HousingType.PRIVATE_RENTAL, "Logement locatif privé"),
    (HousingType.SLIDING_LEASE, "Bail glissant"),
    (HousingType.YOUTH_RESIDENCE, "Foyer de jeunes travailleurs (FJT)"),
    (HousingType.SOCIAL_RESIDENCE, "Résidence sociale"),
    (HousingType.FAMILY, "Hébergé en famille"),
    (HousingType.THIRD_PARTY, "Hébergé par un tiers"),
    (HousingType.EMERGENCY_SHELTER, "Hébergement d'urgence"),
    (HousingType.STREET, "Sans abri"),
    (HousingType.OTHER, "Autre logement"),
    (HousingExitReason.MOVED_BY_CHOICE, "Départ choisi vers un autre logement"),
    (HousingExitReason.EVICTION, "Expulsion locative"),
    (HousingExitReason.OTHER, "Autre motif"),
    (Contract.CDI, "CDI"),
    (Contract.CDD, "CDD"),
    (Contract.TEMPORARY_AGENCY, "Intérim"),
    (Contract.SUBSIDISED, "Contrat aidé (CIE/PEC)"),
    (Contract.SIAE, "Contrat en SIAE"),
    (Contract.APPRENTICESHIP, "Apprentissage"),
    (Contract.BUSINESS_CREATION, "Création d'entreprise"),
    (Scheme.PACEA, "PACEA"),
    (Scheme.CEJ, "Contrat d'engagement jeune"),
    (Scheme.E2C, "École de la deuxième chance"),
    (Scheme.EPIDE, "EPIDE"),
    (Scheme.OTHER, "Autre dispositif"),
    (Resource.YOUNG_ADULT_ALLOWANCE, "Contrat jeune majeur"),
    (Resource.CEJ_ALLOWANCE, "Allocation CEJ"),
    (Resource.RSA, "RSA"),
    (Resource.WAGE, "Salaire"),
    (Resource.AAH, "AAH"),
    (Resource.GRANT, "Bourse"),
    (Resource.FAJ, "Fonds d'aide aux jeunes"),
    (Resource.OTHER, "Autres ressources"),
    (ContactMode.HOME_VISIT, "Visite à domicile"),
    (ContactMode.MEETING, "Rendez-vous"),
    (ContactMode.PHONE, "Téléphone"),
)


# Keyed by (enum, value): several enums share a value ("other", "training", ...), and
# StrEnum members hash as their value, so a dict keyed by members would mix them up.
LABELS_FR: dict[tuple[type[StrEnum], str], str] = {
    (type(code), code.value): label for code, label in _LABEL_PAIRS}


def label_fr(code: StrEnum) -> str:
    """French label of a code (every code has one: tests/test_consistency.py checks it)."""
    return LABELS_FR[(type(code), code.value)]


ALL_ENUMS: tuple[type[StrEnum], ...] = (
    Departement, StructureKind, OperationKind, Sex, Intensity, ExitReason, EventType, Family,
    HousingType, HousingExitReason, Contract, Scheme, Resource, ContactMode,
)
