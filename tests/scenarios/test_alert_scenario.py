"""Issue acceptance, over HTTP on both databases: an ASE youth's support break and missed
follow-up reach the ASE referent of the Pas-de-Calais (not the Nord's), in the inbox and
by e-mail through a local SMTP server, with no identity in the message; the referent
acknowledges and closes the alert; reminders run twice the same day deliver once.
"""

from __future__ import annotations

import email
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from cohort.followups_cli import followups_group
from tests.builders import person
from tests.http.conftest import clients, jsonable  # noqa: F401 - `clients` is a fixture


@dataclass
class Mailbox:
    """What the local SMTP server received: (recipients, raw message) per message."""

    messages: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1 and a free port, for this test only."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _text(raw: bytes) -> str:
    """Subject and decoded body: a name hidden by an encoding would still be found."""
    message = email.message_from_bytes(raw, policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return f"{message['Subject']}\n{body.get_content()}\n{raw.decode('ascii', 'replace')}"


def test_an_ase_youths_failures_reach_the_referents_of_62_only(
        app: Any, clients: dict[str, Any], people: dict[str, Any],  # noqa: F811
        smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    ml, referent62, referent59 = clients["coord_ml"], clients["referent62"], clients["referent59"]
    actions = {a["code"]: a["id"] for a in
               _ok(ml.get("/api/v1/programmes/erbm-2023"))["actions"]}
    identity = person(last_name="Vandenbrouck", first_names="Maëlys", ase_past=True,
                      home_departement="62")
    youth = _ok(ml.post("/api/v1/participants", json=jsonable(identity)), 201)["id"]
    enrolment = _ok(ml.post("/api/v1/enrolments", json={
        "participant_id": youth, "action_id": actions["62-A6"],
        "structure_id": str(people["structures"]["ml"].uuid), "start_date": "2023-02-01",
        "rsa_at_entry": False}), 201)["id"]
    _ok(ml.post("/api/v1/events", json={
        "id": str(uuid.uuid4()), "participant_id": youth, "type": "support_break",
        "date": "2023-05-02", "enrolment_id": enrolment,
        "attributes": {"reason": "ne vient plus aux rendez-vous"}}), 201)
    _ok(ml.post(f"/api/v1/enrolments/{enrolment}/end",
                json={"end_date": "2023-06-30", "exit_reason": "end_of_support"}))

    # The support break: one alert, for the Pas-de-Calais only, already in the inbox.
    alerts = _ok(referent62.get("/api/v1/alerts"))["items"]
    assert [(a["cause"], a["participant_id"], a["action_code"], a["status"]) for a in alerts] == [
        ("support_break", youth, "62-A6", "open")]
    assert _ok(referent59.get("/api/v1/alerts"))["items"] == []
    assert [m["kind"] for m in _ok(referent62.get("/api/v1/inbox"))["items"]] == ["alert"]
    assert _ok(referent59.get("/api/v1/inbox"))["items"] == []

    # The check (due 30 Dec 2023) is overdue from 14 Feb 2024: the reminders run that day,
    # twice, and deliver each message once.
    worklist = _ok(ml.get("/api/v1/followups"))
    assert worklist["counts"]["overdue"] == 1
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="cohort@cd62.example.org")
    runner = app.test_cli_runner()
    first = runner.invoke(followups_group, ["remind", "--today", "2024-02-14"])
    assert first.exit_code == 0, first.output
    assert "alerts raised: 1" in first.output
    assert "e-mails sent: 3" in first.output
    second = runner.invoke(followups_group, ["remind", "--today", "2024-02-14"])
    assert second.exit_code == 0, second.output
    assert "e-mails sent: 0" in second.output
    assert sorted(r for recipients, _ in mailbox.messages for r in recipients) == [
        "coord_ml@example.org", "referent62@example.org", "referent62@example.org"]

    secrets = [identity["last_name"], identity["first_names"], "Maelys", "MAELYS",
               identity["birth_date"].isoformat(), identity["birth_date"].strftime("%d/%m/%Y"),
               "ne vient plus"]
    for recipients, raw in mailbox.messages:
        text = _text(raw)
        assert not [s for s in secrets if s.lower() in text.lower()], recipients
        assert youth in text or "suivi" in text
    alert_mails = [_text(raw) for recipients, raw in mailbox.messages
                   if recipients == ["referent62@example.org"]]
    assert all(youth in text and "62-A6" in text for text in alert_mails)

    # The referent of 62 handles the alert; the referent of 59 cannot even see it.
    alerts = _ok(referent62.get("/api/v1/alerts"))["items"]
    assert sorted(a["cause"] for a in alerts) == ["overdue_check", "support_break"]
    rupture = next(a for a in alerts if a["cause"] == "support_break")
    url = f"/api/v1/alerts/{rupture['id']}"
    assert referent59.post(f"{url}/acknowledge", json={}).status_code == 404
    acknowledged = _ok(referent62.post(f"{url}/acknowledge",
                                       json={"expected_version": rupture["version"]}))
    assert acknowledged["status"] == "acknowledged"
    assert referent62.post(f"{url}/acknowledge", json={}).status_code == 409
    assert referent62.post(f"{url}/close", json={"note": ""}).status_code == 422
    closed = _ok(referent62.post(f"{url}/close", json={
        "note": "Contact repris avec le jeune, nouveau rendez-vous fixé."}))
    assert (closed["status"], closed["closed_at"] is not None) == ("closed", True)
    assert referent62.post(f"{url}/close", json={"note": "encore"}).status_code == 409
    assert [a["id"] for a in _ok(referent62.get("/api/v1/alerts?status=open"))["items"]] == [
        next(a["id"] for a in alerts if a["cause"] == "overdue_check")]

    # Messages are read in the inbox, by their recipient only.
    message = _ok(referent62.get("/api/v1/inbox?unread=true"))["items"][0]
    assert referent59.post(f"/api/v1/inbox/{message['id']}/read").status_code == 404
    assert _ok(referent62.post(f"/api/v1/inbox/{message['id']}/read"))["read_at"]
    assert len(_ok(referent62.get("/api/v1/inbox?unread=true"))["items"]) == 1
    assert _ok(ml.get("/api/v1/inbox"))["items"][0]["kind"] == "followup_digest"


def test_a_reached_check_recorded_over_http(clients: dict[str, Any],  # noqa: F811
                                            people: dict[str, Any]) -> None:
    ml, plie = clients["coord_ml"], clients["coord_plie"]
    actions = {a["code"]: a["id"] for a in
               _ok(ml.get("/api/v1/programmes/erbm-2023"))["actions"]}
    youth = _ok(ml.post("/api/v1/participants", json=jsonable(person(ase_past=True))), 201)["id"]
    enrolment = _ok(ml.post("/api/v1/enrolments", json={
        "participant_id": youth, "action_id": actions["62-A6"],
        "structure_id": str(people["structures"]["ml"].uuid), "start_date": "2023-02-01",
        "rsa_at_entry": False}), 201)["id"]
    _ok(ml.post(f"/api/v1/enrolments/{enrolment}/end",
                json={"end_date": "2023-08-31", "exit_reason": "employment"}))
    worklist = _ok(ml.get(f"/api/v1/followups?action_id={actions['62-A6']}&sort=-due_date"))
    (check,) = worklist["items"]
    assert (check["due_date"], check["state"], check["enrolment_id"]) == (
        "2024-02-29", "overdue", enrolment)
    assert _ok(plie.get("/api/v1/followups"))["items"] == []

    url = f"/api/v1/followups/{check['id']}/result"
    body = {"expected_version": check["version"], "date": "2024-03-04", "outcome": "reached",
            "situation": {"employment": {"contract": "cdd", "planned_months": 8},
                          "housing_type": "private_rental"}}
    bad = ml.post(url, json={**body, "situation": {"employment": {"contract": "cdd"}}})
    assert bad.status_code == 422
    assert "planned_months" in str(bad.get_json()["errors"])
    assert plie.post(url, json=body).status_code == 404
    recorded = _ok(ml.post(url, json=body), 201)
    assert recorded["state"] == "done"
    assert recorded["status_at_check"] == {"in_pathway": True, "durable_employment": True,
                                           "stably_housed": True, "has_resources": False}
    assert len(recorded["event_ids"]) == 2
    assert _ok(ml.post(url, json=body))["id"] == check["id"]  # a retry: 200, nothing new
    conflict = ml.post(url, json={**body, "outcome": "refused", "situation": None})
    assert conflict.status_code == 409
    timeline = _ok(ml.get(f"/api/v1/events?participant_id={youth}"))["items"]
    assert sorted(e["type"] for e in timeline) == ["employment_start", "housing_entry"]
