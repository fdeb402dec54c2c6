"""Who may enrol where (domain.md §2 "Operators"), through the API and the command line:
a structure enrols only into actions of its département (or joint) that its kind runs;
an administrator forces anything else with a recorded justification."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from cohort.actors import SYSTEM
from cohort.cli import cli
from cohort.errors import Rejected
from cohort.models import Enrolment
from cohort.services import enrolments, structures
from tests.builders import NOW, action, enrol, person, register, structure
from tests.http.conftest import assert_refused, jsonable


def _codes(client: Any, structure_id: Any) -> list[str]:
    response = client.get(f"/api/v1/structures/{structure_id}/actions")
    assert response.status_code == 200, response.get_json()
    return [a["code"] for a in response.get_json()]


def _enrol(client: Any, session: Any, participant: str, code: str, structure_id: Any,
           **extra: Any) -> Any:
    return client.post("/api/v1/enrolments", json={
        "participant_id": participant, "action_id": str(action(session, code).uuid),
        "structure_id": str(structure_id), "start_date": "2023-02-01",
        "rsa_at_entry": True, **extra})


def test_a_lens_mission_locale_is_not_offered_59_a6_and_is_refused_it(
        clients: dict[str, Any], people: dict[str, Any], session: Any) -> None:
    ml = people["structures"]["ml"]  # Mission Locale de Lens-Liévin (62)
    coordinator, admin = clients["coord_ml"], clients["admin"]
    offered = _codes(coordinator, ml.uuid)
    assert "59-A6" not in offered
    assert "62-A1" not in offered  # the PLIE's
    assert {"62-A3", "62-A5", "62-A6", "J-AVIP", "J-SIAE"} <= set(offered)
    assert not [c for c in offered if c.startswith("59-")]

    identity = jsonable(person(birth_date=dt.date(2005, 3, 10), ase_past=True))
    youth = coordinator.post("/api/v1/participants", json=identity)
    assert youth.status_code == 201, youth.get_json()
    pid = youth.get_json()["id"]
    # The administrator meets the same person at registration (which lets them enrol her).
    assert admin.post("/api/v1/participants", json=identity).status_code in (200, 201)
    refused = _enrol(coordinator, session, pid, "59-A6", ml.uuid)
    body = assert_refused(refused, 422, "action_id")
    assert body["reason"] == "not_operator"
    reasons = body["errors"]["json"]["action_id"]
    assert "is an action of another département (59) than the structure's" in reasons
    assert "is not run by structures of kind mission_locale (run by: mds)" in reasons
    # A coordinator cannot force; an administrator can, with a justification.
    assert _enrol(coordinator, session, pid, "59-A6", ml.uuid, force=True,
                  force_justification="urgence").status_code == 403
    assert_refused(_enrol(admin, session, pid, "59-A6", ml.uuid, force=True),
                   422, "force_justification")
    forced = _enrol(admin, session, pid, "59-A6", ml.uuid, force=True,
                    force_justification="Équipe mobile absente du secteur : relais de la ML")
    assert forced.status_code == 201, forced.get_json()
    assert forced.get_json()["forced"] is True
    session.expire_all()
    stored = session.execute(sa.select(Enrolment).where(
        Enrolment.uuid == forced.get_json()["id"])).scalar_one()
    assert stored.forced
    assert stored.force_justification == "Équipe mobile absente du secteur : relais de la ML"


def test_plie_may_enrol_into_62_a1_a_mission_locale_may_not(
        clients: dict[str, Any], people: dict[str, Any], session: Any) -> None:
    plie, ml = people["structures"]["plie"], people["structures"]["ml"]
    assert "62-A1" in _codes(clients["coord_plie"], plie.uuid)
    adult = jsonable(person(birth_date=dt.date(1990, 1, 1), ase_past=False))
    pid = clients["coord_plie"].post("/api/v1/participants", json=adult).get_json()["id"]
    assert _enrol(clients["coord_plie"], session, pid, "62-A1", plie.uuid).status_code == 201
    other = jsonable(person(birth_date=dt.date(1991, 1, 1), ase_past=False))
    pid = clients["coord_ml"].post("/api/v1/participants", json=other).get_json()["id"]
    body = assert_refused(_enrol(clients["coord_ml"], session, pid, "62-A1", ml.uuid),
                          422, "action_id")
    assert body["errors"]["json"]["action_id"] == [
        "is not run by structures of kind mission_locale (run by: plie)"]


def test_joint_actions_are_open_to_their_operators_of_both_departements(
        session: Any, keyring: Any) -> None:
    for departement in ("59", "62"):
        creche = structure(session, kind="creche", departement=departement)
        parent = register(session, keyring, birth_date=dt.date(1995, 5, 5), ase_past=False)
        made = enrol(session, keyring, parent, "J-AVIP", creche, dt.date(2023, 3, 1))
        assert not made.forced
    mds = structure(session, kind="mds", departement="59")
    parent = register(session, keyring, birth_date=dt.date(1995, 5, 6), ase_past=False)
    with pytest.raises(Rejected) as refused:
        enrol(session, keyring, parent, "J-AVIP", mds, dt.date(2023, 3, 1))
    assert refused.value.errors == {"action_id": [
        "is not run by structures of kind mds (run by: creche, plie, mission_locale)"]}


def test_check_operators_reports_a_pre_existing_violation_without_dropping_it(
        app: Any, session: Any, keyring: Any) -> None:
    plie = structure(session, kind="plie")
    adult = register(session, keyring, birth_date=dt.date(1990, 1, 1), ase_past=False)
    kept = enrol(session, keyring, adult, "62-A1", plie, dt.date(2023, 2, 1), rsa_at_entry=True)
    forced = enrol(session, keyring, register(session, keyring), "62-A6", plie,
                   dt.date(2023, 2, 1), force=True, force_justification="Décision du comité")
    session.commit()
    runner = app.test_cli_runner()
    clean = runner.invoke(cli, ["enrolments", "check-operators"])
    assert clean.exit_code == 0, clean.output
    assert f"{forced.uuid}\t62-A6\t{plie.name}\tplie\t62\tforced" in clean.output
    assert "1 enrolment(s) break the operator rule, 0 not forced" in clean.output

    # The structure is re-classified after the fact: its 62-A1 enrolment now breaks the rule.
    structures.update_structure(session, SYSTEM, plie, {"kind": "mission_locale"}, now=NOW)
    session.commit()
    found = runner.invoke(cli, ["enrolments", "check-operators"])
    assert found.exit_code == 1, found.output
    assert (f"{kept.uuid}\t62-A1\t{plie.name}\tmission_locale\t62\tnot forced\t"
            "is not run by structures of kind mission_locale (run by: plie)") in found.output
    # ... and its forced 62-A6 one no longer does (a Mission Locale runs 62-A6).
    assert str(forced.uuid) not in found.output
    assert "1 enrolment(s) break the operator rule, 1 not forced" in found.output
    session.expire_all()
    assert session.get(Enrolment, kept.id) is not None  # reported, never dropped
    assert [v.enrolment_uuid for v in enrolments.operator_violations(session)] == [
        str(kept.uuid)]
