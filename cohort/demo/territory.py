"""The demo's fixed world: the programme, the Pas-de-Calais structures, communes and names.

Pure data, shared by the planner and the writer. The names are common French first and
last names combined at random: the people they make up are fake.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cohort.config import PROJECT_ROOT

PROGRAMME_CODE = "erbm-2023"
PROGRAMME_FILE = PROJECT_ROOT / "config" / "programmes" / "erbm-2023.toml"
ACTIONS = ("62-A1", "62-A2", "62-A3", "62-A4", "62-A5", "62-A6")
WINDOW_START = dt.date(2022, 1, 3)  # first enrolments of the demo
EARLIEST_TODAY = dt.date(2022, 4, 1)  # leaves room for three months of pathways
MIN_PARTICIPANTS, MAX_PARTICIPANTS = 12, 5000
STRUCTURES_CREATED_AT = dt.datetime(2021, 6, 1, 7, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class StructureSpec:
    key: str
    name: str
    kind: str


# The demo coordinators' structures (demo.accounts), in the order `demo load` prefers them
# for the two identities it prints: people they follow, so a search finds them.
SHOWCASE_STRUCTURES = ("ml_lens", "plie")

STRUCTURES = (
    StructureSpec("ml_lens", "Mission Locale de Lens-Liévin", "mission_locale"),
    StructureSpec("ml_artois", "Mission Locale de l'Artois", "mission_locale"),
    StructureSpec("plie", "PLIE de Lens-Hénin-Carvin", "plie"),
    StructureSpec("mde", "Maison de l'Emploi de l'Artois", "mde"),
    StructureSpec("cllaj", "CLLAJ de Lens", "cllaj"),
    StructureSpec("bailleur_lens", "Bailleur social du Lensois", "bailleur"),
    StructureSpec("bailleur_artois", "Bailleur social de l'Artois", "bailleur"),
    StructureSpec("creche_lievin", "Crèche AVIP de Liévin", "creche"),
    StructureSpec("creche_henin", "Crèche AVIP d'Hénin-Beaumont", "creche"),
    StructureSpec("creche_bruay", "Crèche AVIP de Bruay-la-Buissière", "creche"),
    StructureSpec("aci", "Atelier chantier d'insertion de l'Artois", "siae"),
    StructureSpec("mds", "Maison du Département Solidarité de Lens", "mds"),
    # 62-A1 is run by the PLIE only (domain.md §2 "Operators"): the Artois has its own.
    StructureSpec("plie_artois", "PLIE de l'Artois", "plie"),
)

# The three EPCIs (SIREN) of the Pas-de-Calais sheets' territory, with demo weights.
EPCI = {"lens": "246200364", "henin": "246200299", "artois": "200072460"}
AREA_WEIGHTS = {"lens": 45, "henin": 22, "artois": 33}
COMMUNES = {
    "lens": ("Lens", "Liévin", "Avion", "Méricourt", "Harnes", "Sallaumines", "Grenay",
             "Bully-les-Mines", "Loos-en-Gohelle"),
    "henin": ("Hénin-Beaumont", "Carvin", "Courrières", "Montigny-en-Gohelle", "Oignies",
              "Rouvroy"),
    "artois": ("Bruay-la-Buissière", "Auchel", "Marles-les-Mines", "Nœux-les-Mines",
               "Houdain", "Divion", "Barlin"),
}

# Small lists of common names, combined at random: the people they make up are fake.
FIRST_NAMES = {
    "F": ("Léa", "Manon", "Clémence", "Chloé", "Ophélie", "Jade", "Sarah", "Océane", "Maëva",
          "Mélissa", "Justine", "Pauline", "Morgane", "Amandine", "Aurélie", "Sandrine",
          "Nathalie", "Stéphanie", "Ludivine", "Karine", "Virginie", "Élodie", "Jessica",
          "Audrey", "Maëlys", "Lætitia", "Noémie", "Yasmine", "Sabrina", "Zoé", "Émeline",
          "Anne-Sophie", "Marie-Laure", "Cindy", "Mégane", "Coralie", "Émilie", "Lucie"),
    "M": ("Valentin", "Enzo", "Hugo", "Mathéo", "Nathan", "Mathis", "Dylan", "Kévin", "Jordan",
          "Florian", "Romain", "Maxime", "Quentin", "Jérémy", "Anthony", "Mickaël",
          "Sébastien", "Frédéric", "Christophe", "Ludovic", "Grégory", "Yannick", "Rayan",
          "Yanis", "Sofiane", "Karim", "Samir", "Kylian", "Baptiste", "Corentin", "Killian",
          "Loïc", "Gaëtan", "Benoît", "Jérôme", "Jean-Baptiste", "Pierre-Louis",
          "Jean-Philippe", "Steven", "Bryan"),
}
LAST_NAMES = (
    "Lefebvre", "Lecomte", "Lemaire", "Duflos", "Delattre", "Leclercq", "Carpentier",
    "Vasseur", "Duhamel", "Deschamps", "Lecœur", "Wozniak", "Kowalski", "Nowak",
    "Lewandowski", "Szymanski", "Mazur", "Delcourt", "Dhainaut", "Bouchez", "Fontaine",
    "Lemoine", "Hennebelle", "Deroo", "Vandamme", "Benali", "Haddad", "Boulanger", "Leroy",
    "Lebrun", "Delannoy", "Duquesne", "Dumortier", "Dubrulle", "Pruvost", "Lamotte",
    "Cuvelier", "Delplanque", "Hochart", "Demarcq", "Mériaux", "Crépin", "Bécourt",
    "Lévêque", "Dufossé", "Brassart", "Pétillon", "Gruson", "Cattiaux", "Wasilewski",
)

# Spread of the primary action (62-A2 is the big one: 180 participants a year targeted).
SHARES = {"62-A2": 32, "62-A6": 22, "62-A4": 12, "62-A5": 12, "62-A1": 11, "62-A3": 11}

BREAK_REASONS = (
    "Absences répétées aux rendez-vous",
    "Jeune injoignable depuis plusieurs semaines",
    "Refus temporaire de l'accompagnement",
    "Hospitalisation",
    "Départ temporaire hors du territoire",
)
CONTRACT_MONTHS = {
    "cdd": (3, 12), "temporary_agency": (1, 4), "subsidised": (6, 12), "siae": (4, 12),
    "apprenticeship": (12, 24),
}

