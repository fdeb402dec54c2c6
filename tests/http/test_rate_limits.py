"""Rate limits (issue 18, finding 3): 30 "already known" look-ups in half a second were all
answered, and a 409 on a re-used NIR made a basin-wide membership test. Now every API
request counts against its token and its structure, and look-ups and identity reveals
against the user, answered 429 with Retry-After."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cohort import create_app
from cohort.actors import SYSTEM
from cohort.errors import ConfigError
from cohort.services import accounts
from tests.builders import enrol, person, register, token_client
from tests.http.conftest import jsonable
from tests.web.conftest import post_form, sign_in

LIMITS = {"API_RATE_LIMIT_PER_TOKEN": "5 per minute",
          "API_RATE_LIMIT_PER_STRUCTURE": "8 per minute",
          "LOOKUP_RATE_LIMIT": "4 per minute", "IDENTITY_RATE_LIMIT": "3 per hour"}


@pytest.fixture
def limited_app(database_url: str, keys_file: Path, session_factory: sessionmaker[Session],
                tmp_path: Path) -> Iterator[Any]:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url,
                      "KEYS_FILE": str(keys_file), "SESSION_COOKIE_SECURE": False,
                      "ERASURE_LEDGER_FILE": str(tmp_path / "ledger.jsonl"), **LIMITS})
    app.extensions["cohort.sessionmaker"] = session_factory
    yield app
    app.extensions["cohort.engine"].dispose()


def _refused(answer: Any, limit: str, window: int = 60) -> None:
    assert answer.status_code == 429, answer.get_data(as_text=True)[:200]
    body = answer.get_json()
    assert (body["reason"], body["limit"]) == ("rate_limited", limit)
    assert 1 <= int(answer.headers["Retry-After"]) <= window


def test_registration_look_ups_are_limited_per_user(
        app: Any, clients: dict[str, Any], session: Session) -> None:
    """With the defaults: the 31st look-up within a minute is refused, search or register."""
    known = jsonable(person())
    search = {k: known[k] for k in ("last_name", "first_names", "birth_date")}
    ml = clients["coord_ml"]
    answers = [ml.post("/api/v1/participants/search", json=search) for _ in range(30)]
    assert {a.status_code for a in answers} == {404}
    _refused(ml.post("/api/v1/participants/search", json=search), "lookup")
    _refused(ml.post("/api/v1/participants", json=known), "lookup")
    # Another coordinator, and reads that are not look-ups, are not held back.
    assert clients["coord_plie"].post("/api/v1/participants/search",
                                      json=search).status_code == 404
    assert ml.get("/api/v1/events").status_code == 200


def test_every_request_counts_against_its_token_then_its_structure(
        limited_app: Any, people: dict[str, Any], session: Session) -> None:
    first = token_client(limited_app, people["users"]["coord_ml"][1])
    colleague = accounts.create_user(session, SYSTEM, {
        "email": "collegue@example.org", "display_name": "collègue",
        "structure_id": people["structures"]["ml"].uuid, "role": "coordinator",
        "password": None}, now=dt.datetime.now(dt.UTC))
    second = token_client(limited_app, accounts.create_token(
        session, SYSTEM, colleague, label="tests", days=1, now=dt.datetime.now(dt.UTC)).secret)
    session.commit()
    assert [first.get("/api/v1/events").status_code for _ in range(5)] == [200] * 5
    _refused(first.get("/api/v1/events"), "token")
    assert [second.get("/api/v1/events").status_code for _ in range(3)] == [200] * 3
    _refused(second.get("/api/v1/events"), "structure")
    other = token_client(limited_app, people["users"]["coord_plie"][1])
    assert other.get("/api/v1/events").status_code == 200


def test_identity_reveals_are_limited_in_the_api_and_the_pages(
        limited_app: Any, people: dict[str, Any], session: Session, keyring: Any) -> None:
    youth = register(session, keyring)
    enrol(session, keyring, youth, "62-A6", people["structures"]["ml"], dt.date(2023, 2, 1))
    session.commit()
    url = f"/api/v1/participants/{youth.uuid}/identity"
    purpose = {"purpose": "rappeler le jeune"}
    api = token_client(limited_app, people["users"]["coord_ml"][1])
    assert [api.post(url, json=purpose).status_code for _ in range(3)] == [200] * 3
    _refused(api.post(url, json=purpose), "identity", window=3600)
    page = sign_in(limited_app.test_client(), people["users"]["coord_ml"][0])
    refused = post_form(page, f"/personnes/{youth.uuid}/identite", purpose)
    assert refused.status_code == 429
    assert "Trop de tentatives" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 60  # an hourly window
    # Administrators see everyone by role (each access audited): no per-user look-up limit.
    admin = token_client(limited_app, people["users"]["admin"][1])
    search = {"last_name": "Inconnu", "first_names": "Personne", "birth_date": "2001-01-01"}
    assert {admin.post("/api/v1/participants/search", json=search).status_code
            for _ in range(5)} == {404}


def test_a_bad_limit_stops_the_service_naming_the_setting(
        database_url: str, keys_file: Path) -> None:
    with pytest.raises(ConfigError, match="LOOKUP_RATE_LIMIT"):
        create_app({"TESTING": True, "DATABASE_URL": database_url,
                    "KEYS_FILE": str(keys_file), "LOOKUP_RATE_LIMIT": "beaucoup"})
