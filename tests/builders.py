"""Builders for domain states, through the real services (they flush, never commit)."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM, Role
from cohort.identity.keyring import Keyring
from cohort.models import Action, Enrolment, Event, Participant, Structure
from cohort.services import accounts, enrolments, events, participants, structures

NOW = dt.datetime(2024, 6, 15, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2024, 6, 15)
_names = itertools.count(1)

# Every identity value a test hands to the service, so tests/test_zz_no_plaintext.py can
# prove none of them was stored or logged in clear.
ISSUED: set[str] = set()


def action(session: Session, code: str) -> Action:
    return session.execute(sa.select(Action).where(Action.code == code)).scalar_one()


def structure(session: Session, name: str | None = None, kind: str = "mission_locale",
              departement: str = "62") -> Structure:
    return structures.create_structure(
        session, SYSTEM,
        {"name": name or f"Structure {next(_names)}", "kind": kind, "departement": departement},
    )


# A Pas-de-Calais kind that runs each action (the programme file's `operators`).
RUNS = {"62-A1": "plie", "62-A2": "plie", "62-A3": "creche", "62-A4": "cllaj",
        "62-A5": "cllaj", "62-A6": "mission_locale"}


def runs(session: Session, code: str) -> Structure:
    """The test structure that runs `code` (created once per database), for enrolments
    whose structure does not matter to the test (domain.md §2 "Operators")."""
    name = f"Opérateur {code}"
    found = session.execute(sa.select(Structure).where(Structure.name == name)
                            ).scalar_one_or_none()
    return found or structure(session, name, RUNS[code])


def person(**overrides: Any) -> dict[str, Any]:
    """A synthetic identity (never a real one)."""
    n = next(_names)
    data: dict[str, Any] = {
        "last_name": f"Testnom{n}", "first_names": f"Prenom{n}",
        "birth_date": dt.date(2005, 3, 10), "sex": "F", "ase_past": True,
    }
    data.update(overrides)
    issue(data)
    return data


def issue(identity: dict[str, Any]) -> None:
    """Remember an identity's values (and their normalised forms) for the plaintext check."""
    from cohort.identity.normalise import EmptyName, normalise_name

    for field in ("last_name", "first_names"):
        value = identity.get(field)
        if isinstance(value, str) and len(value.strip()) >= 4:
            ISSUED.add(value)
            with contextlib.suppress(EmptyName):
                ISSUED.add(normalise_name(value))
    birth = identity.get("birth_date")
    if isinstance(birth, dt.date):
        ISSUED.update({birth.isoformat(), birth.strftime("%d/%m/%Y")})
    if identity.get("nir"):
        ISSUED.add(str(identity["nir"]).replace(" ", ""))


def register(session: Session, keyring: Keyring, **overrides: Any) -> Participant:
    return participants.register(session, keyring, SYSTEM, person(**overrides),
                                 today=TODAY).participant


def enrol(session: Session, keyring: Keyring, participant: Participant, action_code: str,
          where: Structure, start: dt.date, **extra: Any) -> Enrolment:
    data = {"participant_id": participant.uuid, "action_id": action(session, action_code).uuid,
            "structure_id": where.uuid, "start_date": start, "rsa_at_entry": False}
    data.update(extra)
    return enrolments.enrol(session, keyring, SYSTEM, data, today=TODAY, now=NOW)


def record(session: Session, keyring: Keyring, participant: Participant, type_: str,
           date: dt.date, *, now: dt.datetime = NOW, **fields: Any) -> Event:
    data: dict[str, Any] = {
        "id": fields.pop("id", uuid.uuid4()), "participant_id": participant.uuid,
        "type": type_, "date": date, "enrolment_id": fields.pop("enrolment_id", None),
        "operation_id": fields.pop("operation_id", None), "closes": fields.pop("closes", None),
        "attributes": fields,
    }
    return events.record(session, keyring, SYSTEM, data, today=TODAY, now=now).event


# The cast of the access tests: structure name → (kind, département), user → (role, structure).
STRUCTURES = {
    "ml": ("Mission Locale de Lens-Liévin", "mission_locale", "62"),
    "plie": ("PLIE de Lens-Hénin-Carvin", "plie", "62"),
    "mds62": ("Maison du Département Solidarité de Lens", "mds", "62"),
    "mds59": ("Maison du Département Solidarité de Douai", "mds", "59"),
    "ddets": ("DDETS du Pas-de-Calais", "ddets", "62"),
    "cd62": ("Département du Pas-de-Calais", "departement", "62"),
}
USERS = {
    "coord_ml": (Role.COORDINATOR, "ml"),
    "coord_plie": (Role.COORDINATOR, "plie"),
    "referent62": (Role.ASE_REFERENT, "mds62"),
    "referent59": (Role.ASE_REFERENT, "mds59"),
    "evaluator": (Role.EVALUATOR, "ddets"),
    "pilot62": (Role.PILOT, "cd62"),
    "admin": (Role.ADMIN, "cd62"),
}


def cast(session: Session) -> dict[str, Any]:
    """Create the structures and users above, each user with an API token."""
    made = {key: structure(session, name, kind, dept)
            for key, (name, kind, dept) in STRUCTURES.items()}
    users = {}
    for login, (role, where) in USERS.items():
        user = accounts.create_user(session, SYSTEM, {
            "email": f"{login}@example.org", "display_name": login,
            "structure_id": made[where].uuid, "role": role.value,
            "password": None}, now=NOW)
        issued = accounts.create_token(session, SYSTEM, user, label="tests", days=30,
                                       now=dt.datetime.now(dt.UTC))
        users[login] = (user, issued.secret)
    return {"structures": made, "users": users}


def token_client(app: Any, secret: str) -> Any:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client
