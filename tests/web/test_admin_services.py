"""What the administration pages added to the services: key status (shared with
`cohort keys status`), the read-side queries of cohort.services.administration, audited
structure writes through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from cohort import audit, clock
from cohort.actors import SYSTEM, Actor, Role
from cohort.errors import Forbidden
from cohort.identity.keyring import Purpose
from cohort.models import AuditEntry
from cohort.services import administration, participants
from cohort.services.keys import KeyStatus, key_status
from tests.builders import person
from tests.web.test_admin import text


def test_key_status_counts_rows_per_version(session: Any, keyring: Any) -> None:
    before = {s.purpose: s.total for s in key_status(session, keyring)}
    participants.register(session, keyring, SYSTEM, person(), today=clock.today())
    statuses = {s.purpose: s for s in key_status(session, keyring)}
    assert list(statuses) == list(Purpose)
    encryption = statuses[Purpose.ENCRYPTION]
    assert encryption.current == keyring[Purpose.ENCRYPTION].current
    assert encryption.total == before[Purpose.ENCRYPTION] + 1
    assert encryption.remaining == 0


def test_rotation_progress_and_retirable_versions() -> None:
    status = KeyStatus(Purpose.PSEUDONYM, current=3, configured=(1, 2, 3),
                       rows={2: 40, 3: 60})
    assert (status.total, status.remaining, status.retirable) == (100, 40, (1,))


def test_the_cli_prints_the_same_status(app: Any, people: Any) -> None:
    from cohort.cli import cli

    result = app.test_cli_runner().invoke(cli, ["keys", "status"])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == [
        str(purpose) for purpose in Purpose]
    assert "current v1; configured 1" in result.output


def test_the_keys_page_shows_a_rotation_in_progress(web: Any, monkeypatch: Any) -> None:
    halfway = [KeyStatus(Purpose.ENCRYPTION, 2, (1, 2), {1: 30, 2: 70}),
               KeyStatus(Purpose.PSEUDONYM, 1, (1,), {1: 100}),
               KeyStatus(Purpose.NIR, 1, (1,), {})]
    monkeypatch.setattr("cohort.web.admin.key_status", lambda *_: halfway)
    page = text(web("admin").get("/admin/cles"))
    assert "Rotation en cours 30 lignes sur 100 encore sous une version antérieure" in page
    assert "(70 % à jour)" in page
    assert "cohort keys rotate --purpose encryption" in page
    assert "Ancienne — à migrer par rotation" in page


def test_the_overview_is_for_administrators(session: Any) -> None:
    with pytest.raises(Forbidden):
        administration.overview(session, Actor(role=Role.PILOT, user_id=1),
                                now=clock.now())


def test_audit_dates_are_paris_days(session: Any) -> None:
    # 23:30 UTC on 31 March is already 1 April in Paris (summer time, UTC+2).
    late = dt.datetime(2024, 3, 31, 23, 30, tzinfo=dt.UTC)
    entry = audit.append(session, SYSTEM, "test.paris", now=late)

    def ids(**filters: Any) -> list[int]:
        query = administration.audit_query(session, {"action": "test.paris", **filters})
        return list(session.execute(query).scalars().all())

    assert [e.id for e in ids(date_from=dt.date(2024, 4, 1), date_to=dt.date(2024, 4, 1))] == [
        entry.id]
    assert ids(date_to=dt.date(2024, 3, 31)) == []


def test_structure_writes_through_the_api_are_audited(app: Any, people: Any,
                                                      session: Any) -> None:
    from tests.builders import token_client

    api = token_client(app, people["users"]["admin"][1])
    created = api.post("/api/v1/structures", json={"name": "Crèche des Terrils",
                                                   "kind": "creche", "departement": "62"})
    assert created.status_code == 201
    uid = created.get_json()["id"]
    assert api.patch(f"/api/v1/structures/{uid}", json={"departement": "59"}).status_code == 200
    session.expire_all()
    rows = session.execute(sa.select(AuditEntry.action, AuditEntry.fields, AuditEntry.details)
                           .where(AuditEntry.target_id == uid).order_by(AuditEntry.id)).all()
    assert [tuple(r) for r in rows] == [
        ("structure.create", [], {"kind": "creche", "departement": "62"}),
        ("structure.update", ["departement"], {"kind": "creche", "departement": "59"})]
