""""Qualité des données" (issue 17, item 5): reached from the coordinator's home page, the
structure's lines by kind, each linking to the person's page, another structure's never."""

from __future__ import annotations

from typing import Any

from tests.http.test_data_quality_api import stale_period


def test_the_data_quality_page(web: Any, people: dict[str, Any], session: Any,
                               keyring: Any) -> None:
    ours = stale_period(session, keyring, people["structures"]["ml"], "62-A6")
    theirs = stale_period(session, keyring, people["structures"]["plie"], "62-A1")
    client = web("coord_ml")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/qualite-des-donnees"' in home
    assert "Qualité des données" in home

    page = client.get("/qualite-des-donnees")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Périodes ouvertes depuis plus de 12 mois sans événement (1)" in html
    assert f'href="/personnes/{ours.uuid}"' in html
    assert f"Personne {str(ours.uuid)[:8].upper()}" in html
    assert str(theirs.uuid) not in html
    assert "Formation" in html

    one_kind = client.get("/qualite-des-donnees?type=stale_open_period")
    assert one_kind.status_code == 200
    assert "Suivis à 6 mois en retard (" not in one_kind.get_data(as_text=True)
    assert web("evaluator").get("/qualite-des-donnees").status_code == 403
    assert 'href="/qualite-des-donnees"' not in web("evaluator").get("/").get_data(as_text=True)
