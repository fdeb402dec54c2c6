"""The registration pages with the possible-duplicates check, the administrators' queue of
link requests and the duplicates report, through the test client on both databases."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import sqlalchemy as sa

from cohort.models import AuditEntry, LinkRequest, Participant
from tests.builders import person
from tests.web.conftest import post_form

BIRTH = dt.date(2001, 11, 23)
HEADING = "Cette personne est peut-être déjà enregistrée"


def text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def _nir(sex: str, birth: dt.date, dept: str) -> str:
    from stdnum.fr import nir

    base = f"{sex}{birth.year % 100:02d}{birth.month:02d}{dept}123456"
    return base + nir.calc_check_digits(base)


def form(last_name: str, **more: Any) -> dict[str, Any]:
    data = person(last_name=last_name, first_names="Bérengère", birth_date=BIRTH, **more)
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()
            if k != "ase_past"}


def uuid_of(session: Any, response: Any) -> str:
    assert response.status_code == 302, text(response)
    match = re.search(r"/personnes/([0-9a-f-]{36})", response.headers["Location"])
    assert match
    return match.group(1)


def test_the_three_spellings_suggest_the_first_once(web: Any, session: Any,
                                                    people: dict[str, Any]) -> None:
    client = web("coord_ml")
    first = uuid_of(session, post_form(client, "/personnes/inscription",
                                       form("Dupont Le Fevre")))
    for spelling in ("Dupond-Lefèvre", "dupont lefèvre"):
        page = post_form(client, "/personnes/inscription", form(spelling))
        assert page.status_code == 200
        html = text(page)
        assert HEADING in html
        assert html.count("C'est cette personne") == 1
        assert f"/personnes/{first}" in html
        assert "Dupont Le Fevre Bérengère" in html
        assert "23/11/2001" in html
        assert "Une fiche proche existe" not in html
    # "Another person": registered after all, on the coordinator's word.
    new = uuid_of(session, post_form(client, "/personnes/inscription",
                                     form("dupont lefèvre") | {"decision": "new"}))
    assert new != first


def test_a_record_elsewhere_reveals_nothing_and_a_request_is_filed(
        web: Any, session: Any, people: dict[str, Any]) -> None:
    first = uuid_of(session, post_form(web("coord_ml"), "/personnes/inscription",
                                       form("Dupont Le Fevre")))
    client = web("coord_plie")
    page = post_form(client, "/personnes/inscription", form("Dupond-Lefèvre"))
    html = text(page)
    assert page.status_code == 200
    assert "Une fiche proche existe dans une autre structure" in html
    for secret in (first, "Dupont Le Fevre", "Mission Locale"):
        assert secret not in html
    assert "C'est cette personne" not in html

    short = post_form(client, "/personnes/inscription",
                      form("Dupond-Lefèvre") | {"decision": "request", "reason": "court"})
    assert short.status_code == 422
    assert "Au moins 10 caractères" in text(short)
    sent = post_form(client, "/personnes/inscription", form("Dupond-Lefèvre") | {
        "decision": "request", "reason": "Dit avoir été suivie à Lens l'an passé"})
    assert sent.status_code == 200, text(sent)
    assert "Demande de rapprochement envoyée" in text(sent)
    assert first not in text(sent)
    requests = session.execute(sa.select(LinkRequest)).scalars().all()
    assert len(requests) == 1

    # The administrators' queue: coordinators are refused, administrators review.
    assert web("coord_plie").get("/admin/rapprochements").status_code == 403
    admin = web("admin")
    assert "<strong>1</strong> demandes de rapprochement en attente" in text(admin.get("/admin"))
    queue = text(admin.get("/admin/rapprochements"))
    assert "Dit avoir été suivie à Lens l'an passé" in queue
    review = f"/admin/rapprochements/{requests[0].uuid}"
    assert "Dupont Le Fevre" not in text(admin.get(review))
    refused = post_form(admin, f"{review}/ouvrir", {"purpose": "court"})
    assert refused.status_code == 422
    opened = post_form(admin, f"{review}/ouvrir", {"purpose": "Examen de la demande"})
    assert opened.status_code == 200
    assert "Dupont Le Fevre" in text(opened)
    assert "Dupond-Lefèvre" in text(opened)
    entries = session.execute(sa.select(AuditEntry.purpose).where(
        AuditEntry.action == "participant.exceptional_access")).scalars().all()
    assert entries == ["Examen de la demande", "Examen de la demande"]
    accepted = post_form(admin, f"{review}/accepter", {})
    assert accepted.status_code == 302
    survivor, merged = session.execute(sa.select(Participant.id, Participant.merged_into_id)
                                       .order_by(Participant.id)).all()[-2:]
    assert merged[1] == survivor[0]


def test_a_nir_already_used_offers_a_request(web: Any, session: Any,
                                             people: dict[str, Any]) -> None:
    nir = _nir("2", BIRTH, "62")
    uuid_of(session, post_form(web("coord_ml"), "/personnes/inscription",
                               form("Wimereusienne", nir=nir)))
    client = web("coord_plie")
    page = post_form(client, "/personnes/inscription", form("Wimereuzienne-Caron", nir=nir))
    html = text(page)
    assert "Le NIR saisi est déjà enregistré pour une autre identité" in html
    assert "Wimereusienne" not in html
    sent = post_form(client, "/personnes/inscription", form("Wimereuzienne-Caron", nir=nir) | {
        "decision": "nir_request", "reason": "Le NIR appartient à une autre fiche"})
    assert "Demande de rapprochement envoyée" in text(sent)
    request = session.execute(sa.select(LinkRequest)).scalar_one()
    assert request.cause == "nir"
    registered = session.get(Participant, request.participant_id)
    assert registered.nir_hash is None


def test_the_duplicates_report_page(web: Any, session: Any, people: dict[str, Any]) -> None:
    one = uuid_of(session, post_form(web("coord_ml"), "/personnes/inscription",
                                     form("Dupont Le Fevre")))
    two = uuid_of(session, post_form(web("coord_plie"), "/personnes/inscription",
                                     form("dupont lefèvre") | {"decision": "new"}))
    assert web("coord_ml").get("/admin/doublons").status_code == 403
    admin = web("admin")
    report = text(admin.get("/admin/doublons"))
    assert one in report
    assert two in report
    assert "Doublons possibles" in text(admin.get("/admin"))
    pair = post_form(admin, "/admin/doublons/paire", {"first_id": one, "second_id": two})
    assert pair.status_code == 200
    assert "Dupont Le Fevre" not in text(pair)
    short = post_form(admin, "/admin/doublons/ecarter",
                      {"first_id": one, "second_id": two, "reason": "non"})
    assert short.status_code == 422
    done = post_form(admin, "/admin/doublons/ecarter", {
        "first_id": one, "second_id": two, "reason": "Deux personnes distinctes"})
    assert done.status_code == 302
    assert one not in text(admin.get("/admin/doublons"))
    assert "Aucune paire" in text(admin.get("/admin/doublons"))
