"""The "File active" page: reached from the home tile, filtered by a GET form, searched by
a POST (a form without JavaScript, a JSON body with the CSRF token from the script); the
search text never in a URL; one audit entry per view; coordinators only."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cohort.models import AuditEntry
from tests.web.conftest import csrf_token, post_form
from tests.web.test_coordination import text, youth

PAGE = "/file-active"
SEARCH = "/file-active/recherche"


def two_people(session: Any, keyring: Any, people: Any) -> tuple[Any, Any, Any]:
    mine = youth(session, keyring, people, last_name="Dupont-Lefèvre",
                 first_names="Séraphine")
    other = youth(session, keyring, people, last_name="Kowalczyk", first_names="Philomène")
    theirs = youth(session, keyring, people, where="plie", enrol_in=None,
                   last_name="Lefebvre", first_names="Ambroisine")
    return mine, other, theirs


def audit_count(session: Any) -> int:
    session.expire_all()
    return session.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "caseload.read")).scalar_one()


def test_the_home_tile_leads_to_the_caseload(web: Any, session: Any, keyring: Any,
                                             people: Any) -> None:
    mine, other, theirs = two_people(session, keyring, people)
    client = web("coord_ml")
    assert f'href="{PAGE}"' in text(client.get("/"))
    before = audit_count(session)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = text(page)
    assert audit_count(session) == before + 1
    assert "File active" in html
    assert "Rechercher ou inscrire une personne" in html
    assert 'href="/personnes"' in html
    assert f"/personnes/{mine.uuid}" in html
    assert f"/personnes/{other.uuid}" in html
    assert f"/personnes/{theirs.uuid}" not in html
    assert "62-A6 : depuis le" in html
    assert '<script src="/static/caseload.js" defer>' in html


def test_filters_travel_in_the_url_and_a_bad_one_is_ignored(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    mine, other, _ = two_people(session, keyring, people)
    client = web("coord_ml")
    ended = text(client.get(f"{PAGE}?accompagnement=ended"))
    assert f"/personnes/{mine.uuid}" not in ended
    assert "Aucune personne dans cette liste." in ended
    bad = client.get(f"{PAGE}?suivi=bientot&tri=-name")
    assert bad.status_code == 200
    html = text(bad)
    assert "Un filtre demandé n'est pas valable : il a été ignoré." in html
    assert html.index(f"/personnes/{other.uuid}") < html.index(f"/personnes/{mine.uuid}")
    unknown_action = text(client.get(f"{PAGE}?action=6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"))
    assert "Un filtre demandé n'est pas valable : il a été ignoré." in unknown_action
    assert f"/personnes/{mine.uuid}" in unknown_action


def test_search_without_javascript_posts_a_form(web: Any, session: Any, keyring: Any,
                                                people: Any) -> None:
    mine, other, theirs = two_people(session, keyring, people)
    client = web("coord_ml")
    found = post_form(client, SEARCH, {"q": "LEFE", "accompagnement": "open"})
    assert found.status_code == 200
    html = text(found)
    assert "<html" in html
    assert f"/personnes/{mine.uuid}" in html
    assert f"/personnes/{other.uuid}" not in html
    assert f"/personnes/{theirs.uuid}" not in html
    assert "Résultats de la recherche : 1 personne" in html
    refused = post_form(client, SEARCH, {"q": "--"})
    assert refused.status_code == 422
    assert "Au moins une lettre ou un chiffre." in text(refused)


def test_search_as_you_type_posts_json_with_the_csrf_token(web: Any, session: Any,
                                                           keyring: Any, people: Any) -> None:
    mine, other, theirs = two_people(session, keyring, people)
    client = web("coord_ml")
    token = csrf_token(client, PAGE)
    before = audit_count(session)
    found = client.post(SEARCH, json={"q": "lef", "tri": "name"},
                        headers={"X-CSRFToken": token})
    assert found.status_code == 200
    html = text(found)
    assert "<html" not in html  # the table alone, for the script to put in place
    assert f"/personnes/{mine.uuid}" in html
    assert f"/personnes/{other.uuid}" not in html
    assert f"/personnes/{theirs.uuid}" not in html
    assert audit_count(session) == before + 1
    everyone = text(client.post(SEARCH, json={"q": ""}, headers={"X-CSRFToken": token}))
    assert f"/personnes/{other.uuid}" in everyone  # an emptied box lists the caseload again
    assert client.post(SEARCH, json={"q": "lef"}).status_code == 400  # no CSRF token


def test_coordinators_only(web: Any) -> None:
    for login in ("admin", "referent62", "evaluator"):
        assert web(login).get(PAGE).status_code == 403
