"""Demo accounts: one user per role, so that the demo can be tried right away.

Only with demo keys (the service marks them so): a shared, printed password and tokens
written to a file are acceptable for synthetic data and nothing else. Idempotent: users
that exist are kept, and tokens are issued only for users that have none yet. The demo's
open alerts were raised before the referent existed: their inbox messages are written now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM, Role
from cohort.errors import Rejected
from cohort.models import Alert, ApiToken, Structure, User
from cohort.services import notify
from cohort.services.accounts import create_token, create_user
from cohort.services.structures import create_structure

DEMO_PASSWORD = "demo-cohort-2024"  # noqa: S105 - a demo password, printed by `make demo`
DEPARTEMENT = "Département du Pas-de-Calais"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    structure: str


DEMO_USERS = (
    DemoUser("coordination@ml-lens.demo", "Coordinatrice Mission Locale", Role.COORDINATOR,
             "Mission Locale de Lens-Liévin"),
    DemoUser("coordination@plie.demo", "Coordinateur PLIE", Role.COORDINATOR,
             "PLIE de Lens-Hénin-Carvin"),
    DemoUser("referent-ase@mds-lens.demo", "Référente ASE", Role.ASE_REFERENT,
             "Maison du Département Solidarité de Lens"),
    DemoUser("evaluation@cd62.demo", "Évaluatrice", Role.EVALUATOR, DEPARTEMENT),
    DemoUser("pilotage@cd62.demo", "Pilote départemental", Role.PILOT, DEPARTEMENT),
    DemoUser("admin@cd62.demo", "Administrateur", Role.ADMIN, DEPARTEMENT),
)


@dataclass(frozen=True)
class DemoAccount:
    user: DemoUser
    token: str | None  # None: the user already had a token (not shown again)


def ensure_demo_accounts(session: Session, *, demo_keys: bool, now: dt.datetime,
                         token_days: int = 365) -> list[DemoAccount]:
    """Create the demo users (password DEMO_PASSWORD) and a token for each; flush only."""
    if not demo_keys:
        raise Rejected("keys", "demo accounts need demo keys (never on real data)")
    structures = {s.name: s for s in session.execute(
        sa.select(Structure).where(Structure.departement == "62")).scalars()}
    if DEPARTEMENT not in structures:
        structures[DEPARTEMENT] = create_structure(session, SYSTEM, {
            "name": DEPARTEMENT, "kind": "departement", "departement": "62"})
    accounts = []
    for spec in DEMO_USERS:
        if spec.structure not in structures:
            raise Rejected("structures", "load the demo data first (cohort demo load)")
        user = session.execute(sa.select(User).where(User.email == spec.email)).scalar_one_or_none()
        if user is None:
            user = create_user(session, SYSTEM, {
                "email": spec.email, "display_name": spec.name, "role": spec.role.value,
                "structure_id": structures[spec.structure].uuid, "password": DEMO_PASSWORD},
                now=now)
            session.flush()
        has_token = session.execute(sa.select(sa.func.count()).select_from(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).scalar_one()
        secret = None
        if not has_token:
            secret = create_token(session, SYSTEM, user, label="demo", days=token_days,
                                  now=now).secret
        accounts.append(DemoAccount(spec, secret))
    for alert in session.execute(sa.select(Alert).where(Alert.closed_at.is_(None))
                                 .order_by(Alert.id)).scalars():
        notify.alert_notifications(session, alert, now=now)
    return accounts
