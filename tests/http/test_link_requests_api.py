"""The API of the duplicate check, link requests and the duplicates report: a coordinator
is told of a close record elsewhere and learns nothing of it; an administrator accepts or
rejects the request and dismisses report pairs; coordinators reach neither the queue nor
the report; errors name the field."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from cohort.models import Participant
from tests.builders import person
from tests.http.conftest import assert_refused, jsonable
from tests.http.test_pathway_scenario import actions  # noqa: F401 - the fixture

BIRTH = dt.date(2002, 8, 17)


def _nir(sex: str, birth: dt.date, dept: str) -> str:
    from stdnum.fr import nir

    base = f"{sex}{birth.year % 100:02d}{birth.month:02d}{dept}123456"
    return base + nir.calc_check_digits(base)


def identity(last_name: str, **more: Any) -> dict[str, Any]:
    return jsonable(person(last_name=last_name, first_names="Gwendoline", birth_date=BIRTH,
                           **more))


def registered(client: Any, body: dict[str, Any]) -> str:
    response = client.post("/api/v1/participants", json=body)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def check(client: Any, body: dict[str, Any]) -> Any:
    fields = {k: body[k] for k in ("last_name", "first_names", "birth_date", "nir") if k in body}
    return client.post("/api/v1/participants/possible-duplicates", json=fields)


def test_a_close_record_elsewhere_is_a_flag_and_a_request(
        clients: dict[str, Any], people: dict[str, Any], session: Any,
        actions: dict[str, str]) -> None:  # noqa: F811
    ml, plie, admin = clients["coord_ml"], clients["coord_plie"], clients["admin"]
    theirs = registered(ml, identity("Dupont Le Fevre"))
    assert ml.post("/api/v1/enrolments", json={
        "participant_id": theirs, "action_id": actions["62-A6"],
        "structure_id": str(people["structures"]["ml"].uuid), "start_date": "2024-01-08",
        "rsa_at_entry": False}).status_code == 201

    # The structure that follows the person sees it, with its enrolments.
    here = check(ml, identity("Dupond-Lefèvre"))
    assert here.status_code == 200, here.get_json()
    shown = here.get_json()
    assert [c["id"] for c in shown["followed_here"]] == [theirs]
    assert shown["followed_here"][0]["last_name"] == "Dupont Le Fevre"
    assert [e["action_code"] for e in shown["followed_here"][0]["enrolments"]] == ["62-A6"]

    # Another structure: one flag, nothing of the record (no name, no id, no structure).
    elsewhere = check(plie, identity("Dupond-Lefèvre"))
    assert elsewhere.get_json() == {"followed_here": [], "close_record_elsewhere": True,
                                    "nir_held_elsewhere": False, "detection": True}
    raw = elsewhere.get_data(as_text=True)
    for secret in (theirs, "Dupont", "Fevre", "Mission Locale"):
        assert secret not in raw

    mine = registered(plie, identity("Dupond-Lefèvre"))
    assert_refused(plie.post("/api/v1/link-requests", json={"participant_id": mine}),
                   422, "reason")
    assert_refused(plie.post("/api/v1/link-requests", json={
        "participant_id": mine, "reason": "court"}), 422, "reason")
    filed = plie.post("/api/v1/link-requests", json={
        "participant_id": mine, "reason": "Dit avoir été suivie à Lens"})
    assert filed.status_code == 201, filed.get_json()
    body = filed.get_json()
    assert set(body) == {"id", "status", "cause", "created_at"}
    assert theirs not in filed.get_data(as_text=True)
    again = plie.post("/api/v1/link-requests", json={
        "participant_id": mine, "reason": "Dit avoir été suivie à Lens"})
    assert (again.status_code, again.get_json()["id"]) == (200, body["id"])
    # A structure that does not follow the record cannot file for it.
    assert_refused(clients["coord_ml"].post("/api/v1/link-requests", json={
        "participant_id": mine, "reason": "Je ne la suis pas"}), 404, "participant_id")

    # Coordinators do not see the queue; administrators do.
    assert plie.get("/api/v1/link-requests").status_code == 403
    queue = admin.get("/api/v1/link-requests").get_json()
    assert [(r["id"], r["participant_id"], r["candidate_id"]) for r in queue["items"]] == [
        (body["id"], mine, theirs)]
    assert plie.post(f"/api/v1/link-requests/{body['id']}/accept", json={}).status_code == 403
    accepted = admin.post(f"/api/v1/link-requests/{body['id']}/accept", json={})
    assert (accepted.status_code, accepted.get_json()["status"]) == (200, "accepted")
    assert admin.post(f"/api/v1/link-requests/{body['id']}/accept", json={}).status_code == 200
    merged = session.execute(sa.select(Participant.merged_into_id).where(
        Participant.uuid == mine)).scalar_one()
    survivor = session.execute(sa.select(Participant.id).where(
        Participant.uuid == theirs)).scalar_one()
    assert merged == survivor
    assert admin.get("/api/v1/link-requests").get_json()["items"] == []
    assert_refused(admin.post(f"/api/v1/link-requests/{body['id']}/reject",
                              json={"reason": "Trop tard pour refuser"}),
                   409, "link_request_id")


def test_a_request_rejected_and_a_nir_already_used(clients: dict[str, Any]) -> None:
    ml, plie, admin = clients["coord_ml"], clients["coord_plie"], clients["admin"]
    nir = _nir("2", BIRTH, "62")
    holder = registered(ml, identity("Wissantoise", nir=nir))
    typed = identity("Wissantoize-Lebrun", nir=nir)
    told = check(plie, typed).get_json()
    assert told["nir_held_elsewhere"] is True
    assert told["followed_here"] == []
    assert holder not in json.dumps(told)
    assert_refused(plie.post("/api/v1/participants", json=typed), 409, "nir")
    mine = registered(plie, {k: v for k, v in typed.items() if k != "nir"})
    assert_refused(plie.post("/api/v1/link-requests", json={
        "participant_id": mine, "reason": "NIR porté par une autre fiche",
        "nir": "123"}), 422, "nir")
    filed = plie.post("/api/v1/link-requests", json={
        "participant_id": mine, "reason": "NIR porté par une autre fiche", "nir": nir})
    assert (filed.status_code, filed.get_json()["cause"]) == (201, "nir")
    request_id = filed.get_json()["id"]
    queue = admin.get("/api/v1/link-requests").get_json()["items"]
    assert [(r["participant_id"], r["candidate_id"]) for r in queue] == [(mine, holder)]
    assert_refused(admin.post(f"/api/v1/link-requests/{request_id}/reject", json={}),
                   422, "reason")
    rejected = admin.post(f"/api/v1/link-requests/{request_id}/reject",
                          json={"reason": "Erreur de saisie du NIR, deux personnes"})
    assert (rejected.status_code, rejected.get_json()["status"]) == (200, "rejected")
    done = admin.get("/api/v1/link-requests?status=rejected").get_json()["items"]
    assert [r["decision_reason"] for r in done] == ["Erreur de saisie du NIR, deux personnes"]


def test_the_duplicates_report_and_its_dismissals(clients: dict[str, Any]) -> None:
    ml, plie, admin = clients["coord_ml"], clients["coord_plie"], clients["admin"]
    one = registered(ml, identity("Dupont Le Fevre"))
    two = registered(plie, identity("dupont lefèvre"))
    assert ml.get("/api/v1/duplicates").status_code == 403
    assert ml.post("/api/v1/duplicates/dismissals", json={
        "first_id": one, "second_id": two, "reason": "Deux personnes"}).status_code == 403
    swapped = registered(ml, jsonable(person(last_name="Quentovicienne", first_names="Aude",
                                             birth_date=dt.date(2001, 4, 9))))
    swapped_again = registered(plie, jsonable(person(
        last_name="Quentovicienne", first_names="Aude", birth_date=dt.date(2001, 9, 4))))
    report = admin.get("/api/v1/duplicates").get_json()
    assert {frozenset((p["first_id"], p["second_id"])) for p in report["items"]} == {
        frozenset((one, two)), frozenset((swapped, swapped_again))}
    assert report["next"] is None
    # The strongest pairs only: a day/month swap shares one stored bucket.
    strong = admin.get("/api/v1/duplicates?min_shared=2").get_json()["items"]
    assert [{p["first_id"], p["second_id"]} for p in strong] == [{one, two}]
    too_strict = admin.get("/api/v1/duplicates?min_shared=9")
    assert too_strict.status_code == 422
    assert "min_shared" in too_strict.get_json()["errors"]["query"]
    assert_refused(admin.get("/api/v1/duplicates?after=nope"), 422, "after")
    assert_refused(admin.post("/api/v1/duplicates/dismissals", json={
        "first_id": one, "second_id": two}), 422, "reason")
    assert_refused(admin.post("/api/v1/duplicates/dismissals", json={
        "first_id": one, "second_id": one, "reason": "Deux personnes distinctes"}),
        422, "second_id")
    dismissed = admin.post("/api/v1/duplicates/dismissals", json={
        "first_id": one, "second_id": two, "reason": "Deux personnes distinctes"})
    assert dismissed.status_code == 201, dismissed.get_json()
    assert admin.post("/api/v1/duplicates/dismissals", json={
        "first_id": two, "second_id": one,
        "reason": "Deux personnes distinctes"}).status_code == 200
    left = admin.get("/api/v1/duplicates").get_json()["items"]
    assert [{p["first_id"], p["second_id"]} for p in left] == [{swapped, swapped_again}]
