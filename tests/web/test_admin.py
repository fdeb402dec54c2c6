"""Administration pages through the test client: administrators only (French 403 page),
structures, accounts (create, role, disable, password reset — each ends the user's open
sessions), API tokens (the secret shown once, never flashed), erasure with its confirmation
step, the audit log's filters and the chain's verification."""

from __future__ import annotations

import re
import uuid
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa

from cohort import clock
from cohort.actors import SYSTEM
from cohort.auth import actor_for, token_digest
from cohort.models import ApiToken, AuditEntry, ErasureRequest, Participant, Structure, User
from cohort.services import accounts, participants
from tests.builders import person, token_client
from tests.web.conftest import csrf_token, post_form

PASSWORD = "un-mot-de-passe-provisoire"


def text(response: Any) -> str:
    """The page as a user reads it: tags removed, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def h1(response: Any) -> str:
    match = re.search(r"<h1>(.*?)</h1>", response.get_data(as_text=True), re.S)
    assert match, "no <h1>"
    return unescape(match.group(1)).strip()


def field_error(response: Any, name: str) -> str:
    match = re.search(rf'<p class="erreur-champ" id="erreur-{name}">(.*?)</p>',
                      response.get_data(as_text=True), re.S)
    assert match, f"no error next to {name}"
    return unescape(match.group(1)).strip()


def signed_out(client: Any) -> bool:
    """The client's web session no longer works (it is sent to the login page)."""
    response = client.get("/")
    return response.status_code == 302 and "/connexion" in response.headers["Location"]


def user(session: Any, login: str) -> User:
    session.expire_all()
    return session.execute(sa.select(User).where(User.email == f"{login}@example.org")
                           ).scalar_one()


ADMIN_PAGES = ["/admin", "/admin/structures", "/admin/structures/nouvelle",
               "/admin/utilisateurs", "/admin/utilisateurs/nouveau", "/admin/cles",
               "/admin/effacements", "/admin/journal"]


@pytest.mark.parametrize("login", ["coord_ml", "referent62", "evaluator", "pilot62"])
def test_other_roles_get_the_french_403_page(web: Any, login: str) -> None:
    client = web(login)
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert h1(response) == "Erreur 403"
        assert "Vous n'avez pas accès à cette page." in text(response)
    refused = post_form(client, "/admin/structures/nouvelle",
                        {"name": "Intruse", "kind": "plie", "departement": "62"})
    assert refused.status_code == 403


def test_every_admin_page_opens_with_its_title(web: Any) -> None:
    client = web("admin")
    titles = {}
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        titles[path] = h1(response)
    assert titles == {
        "/admin": "Administration", "/admin/structures": "Structures",
        "/admin/structures/nouvelle": "Créer une structure",
        "/admin/utilisateurs": "Utilisateurs", "/admin/utilisateurs/nouveau": "Créer un compte",
        "/admin/cles": "Clés", "/admin/effacements": "Effacements",
        "/admin/journal": "Journal d'audit"}
    home = text(client.get("/admin"))
    assert "7 comptes actifs sur 7" in home
    assert "6 structures" in home


def test_structures_are_created_and_renamed_with_french_refusals(web: Any, session: Any,
                                                                 people: Any) -> None:
    client = web("admin")
    created = post_form(client, "/admin/structures/nouvelle",
                        {"name": "CLLAJ de Lens", "kind": "cllaj", "departement": "62"})
    assert created.status_code == 302
    listing = client.get(created.headers["Location"])
    assert "Structure créée." in text(listing)
    assert "CLLAJ de Lens" in text(listing)
    duplicate = post_form(client, "/admin/structures/nouvelle",
                          {"name": "CLLAJ de Lens", "kind": "cllaj", "departement": "62"})
    assert duplicate.status_code == 422
    assert field_error(duplicate, "name") == "Existe déjà."
    missing = post_form(client, "/admin/structures/nouvelle", {"kind": "cllaj"})
    assert missing.status_code == 422
    assert field_error(missing, "name") == "Ce champ est obligatoire."

    made = session.execute(sa.select(Structure).where(Structure.name == "CLLAJ de Lens")
                           ).scalar_one()
    path = f"/admin/structures/{made.uuid}/modifier"
    assert 'value="CLLAJ de Lens"' in client.get(path).get_data(as_text=True)
    renamed = post_form(client, path, {"name": "CLLAJ Lens-Liévin", "kind": "cllaj",
                                       "departement": "62"})
    assert renamed.status_code == 302
    session.expire_all()
    assert made.name == "CLLAJ Lens-Liévin"
    actions = session.execute(sa.select(AuditEntry.action, AuditEntry.fields).where(
        AuditEntry.target_id == str(made.uuid)).order_by(AuditEntry.id)).all()
    assert [tuple(a) for a in actions] == [("structure.create", []),
                                           ("structure.update", ["name"])]


def test_an_account_is_created_with_french_refusals(web: Any, session: Any, people: Any) -> None:
    client = web("admin")
    plie = people["structures"]["plie"]
    form = {"email": "Nouvelle.Coord@Example.org", "display_name": "Nouvelle coordinatrice",
            "structure_id": str(plie.uuid), "role": "coordinator", "password": "court"}
    short = post_form(client, "/admin/utilisateurs/nouveau", form)
    assert short.status_code == 422
    assert field_error(short, "password") == "Au moins 12 caractères."
    assert "court" not in short.get_data(as_text=True)  # a password is never sent back
    taken = post_form(client, "/admin/utilisateurs/nouveau",
                      form | {"email": "coord_ml@example.org", "password": PASSWORD})
    assert taken.status_code == 422
    assert field_error(taken, "email") == "Existe déjà."
    empty = post_form(client, "/admin/utilisateurs/nouveau", {})
    assert field_error(empty, "email") == "Ce champ est obligatoire."

    created = post_form(client, "/admin/utilisateurs/nouveau", form | {"password": PASSWORD})
    assert created.status_code == 302
    page = client.get(created.headers["Location"])
    assert h1(page) == "Compte de Nouvelle coordinatrice"
    assert "Compte créé." in text(page)
    made = user(session, "nouvelle.coord")  # the e-mail is kept lower-case
    assert (made.role, made.structure_id, made.active) == ("coordinator", plie.id, True)
    listing = text(client.get(f"/admin/utilisateurs?role=coordinator&structure_id={plie.uuid}"))
    assert "Nouvelle coordinatrice" in listing
    assert "coord_plie" in listing
    assert "coord_ml" not in listing


def test_role_change_disable_and_reset_end_the_users_sessions(web: Any, app: Any,
                                                             session: Any,
                                                             people: Any) -> None:
    admin = web("admin")
    target = user(session, "coord_plie")
    page = f"/admin/utilisateurs/{target.uuid}"

    victim = web("coord_plie")
    changed = post_form(admin, page + "/role", {"role": "pilot"})
    assert changed.status_code == 302
    assert "Rôle modifié." in text(admin.get(page))
    assert user(session, "coord_plie").role == "pilot"
    assert signed_out(victim)

    victim = web("coord_plie")
    secret = people["users"]["coord_plie"][1]
    api = token_client(app, secret)
    assert api.get("/api/v1/structures").status_code == 200
    assert post_form(admin, page + "/activation", {"active": "0"}).status_code == 302
    assert "Compte désactivé" in text(admin.get(page))
    assert signed_out(victim)
    assert api.get("/api/v1/structures").status_code == 401
    assert post_form(admin, page + "/activation", {"active": "1"}).status_code == 302
    assert user(session, "coord_plie").active is True
    # Tokens issued before the disable stay revoked: a leaked one must not come back.
    assert api.get("/api/v1/structures").status_code == 401

    victim = web("coord_plie")
    short = post_form(admin, page + "/mot-de-passe", {"password": "trop court"})
    assert short.status_code == 422
    assert field_error(short, "password") == "Au moins 12 caractères."
    for guessable in ("aaaaaaaaaaaa", "Azerty123456", "coord_plie2024!"):
        weak = post_form(admin, page + "/mot-de-passe", {"password": guessable})
        assert weak.status_code == 422, guessable
        assert field_error(weak, "password").startswith("Mot de passe trop facile à deviner")
    assert not signed_out(victim)
    reset = post_form(admin, page + "/mot-de-passe", {"password": PASSWORD})
    assert reset.status_code == 302
    assert "Mot de passe réinitialisé." in text(admin.get(page))
    assert signed_out(victim)

    newcomer = app.test_client()
    login = newcomer.post("/connexion", data={
        "email": "coord_plie@example.org", "password": PASSWORD,
        "csrf_token": csrf_token(newcomer, "/connexion")})
    assert login.status_code == 302
    assert not signed_out(newcomer)
    audited = session.execute(sa.select(AuditEntry.fields).where(
        AuditEntry.action == "user.update", AuditEntry.target_id == str(target.uuid))
        .order_by(AuditEntry.id)).scalars().all()
    assert audited == [["role"], ["active"], ["active"], ["password"]]


def test_a_token_secret_is_shown_once_and_never_flashed(web: Any, app: Any, session: Any,
                                                        people: Any) -> None:
    admin = web("admin")
    target = user(session, "evaluator")
    page = f"/admin/utilisateurs/{target.uuid}"
    out_of_range = post_form(admin, page + "/jetons", {"label": "logiciel", "days": "400"})
    assert out_of_range.status_code == 422
    assert field_error(out_of_range, "days") == "Entre 1 et 366."

    created = post_form(admin, page + "/jetons", {"label": "logiciel d'évaluation",
                                                   "days": "30"})
    assert created.status_code == 201
    assert h1(created) == "Jeton d'API créé"
    secret = re.search(r'value="(cht_[^"]+)"', created.get_data(as_text=True)).group(1)
    assert "il ne sera plus jamais affiché" in text(created)
    with admin.session_transaction() as web_session:
        assert secret not in repr(dict(web_session))
        assert not web_session.get("_flashes")
    cookie = admin.get_cookie("session")
    assert cookie is None or secret not in cookie.value
    again = admin.get(page)
    assert secret not in again.get_data(as_text=True)
    assert "logiciel d'évaluation" in text(again)
    assert "En service" in text(again)

    token = session.execute(sa.select(ApiToken).where(
        ApiToken.token_sha256 == token_digest(secret))).scalar_one()
    api = token_client(app, secret)
    assert api.get("/api/v1/structures").status_code == 200
    revoked = post_form(admin, f"/admin/jetons/{token.uuid}/revoquer", {})
    assert revoked.status_code == 302
    assert "Jeton révoqué" in text(admin.get(revoked.headers["Location"]))
    assert api.get("/api/v1/structures").status_code == 401


def _registered(session: Any, keyring: Any) -> Participant:
    record = participants.register(session, keyring, SYSTEM, person(),
                                   today=clock.today()).participant
    session.commit()
    return record


def _opened(session: Any, people: Any, record: Participant) -> None:
    """The requesting administrator's exceptional access to the person (from their page)."""
    user = people["users"]["admin"][0]
    participants.grant_exceptional_access(
        session, actor_for(user, session.get(Structure, user.structure_id)), record,
        reason="Demande d'effacement reçue par courrier", now=clock.now())
    session.commit()


def _second_admin(app: Any, session: Any, people: Any) -> Any:
    from tests.web.conftest import sign_in

    colleague = accounts.create_user(session, SYSTEM, {
        "email": "admin2@example.org", "display_name": "admin2",
        "structure_id": people["structures"]["cd62"].uuid, "role": "admin", "password": None},
        now=clock.now())
    session.commit()
    return sign_in(app.test_client(), colleague)


def test_an_erasure_is_asked_by_one_administrator_and_approved_by_another(
        app: Any, web: Any, session: Any, keyring: Any, people: Any) -> None:
    client = web("admin")
    record = _registered(session, keyring)
    form = {"participant_id": str(record.uuid), "mode": "keep_pathway",
            "reason": "Demande écrite de la personne reçue le 2 mai"}
    # Out of the administrator's scope (no exceptional access): as unknown as a wrong id.
    hidden = post_form(client, "/admin/effacements", form)
    unknown = post_form(client, "/admin/effacements", form | {"participant_id": str(uuid.uuid4())})
    assert hidden.status_code == unknown.status_code == 422
    assert field_error(hidden, "participant_id") == field_error(unknown, "participant_id")
    _opened(session, people, record)
    linked = client.get(f"/admin/effacements?participant_id={record.uuid}")
    assert f'value="{record.uuid}"' in linked.get_data(as_text=True)
    short = post_form(client, "/admin/effacements", form | {"reason": "parce que"})
    assert short.status_code == 422
    assert field_error(short, "reason") == "Entre 10 et 500 caractères."

    step_one = post_form(client, "/admin/effacements", form)
    assert step_one.status_code == 200
    assert h1(step_one) == "Confirmer l'effacement"
    unconfirmed = post_form(client, "/admin/effacements/confirmer", form)
    assert unconfirmed.status_code == 422
    assert field_error(unconfirmed, "confirm") == "Cochez la case pour confirmer l'effacement."
    asked = post_form(client, "/admin/effacements/confirmer", form | {"confirm": "on"})
    assert asked.status_code == 302
    listing = text(client.get(asked.headers["Location"]))
    assert "un·e autre administrateur·rice doit l'approuver" in listing
    assert "Votre demande : un·e autre administrateur·rice décide." in listing
    session.expire_all()
    assert record.identity_sealed is not None  # nothing erased yet
    request_id = session.execute(sa.select(ErasureRequest.uuid)).scalar_one()
    own = post_form(client, f"/admin/effacements/{request_id}/approuver", {})
    assert own.status_code == 403  # the one who asked cannot approve
    session.expire_all()
    assert record.identity_sealed is not None

    colleague = _second_admin(app, session, people)
    done = post_form(colleague, f"/admin/effacements/{request_id}/approuver", {})
    assert done.status_code == 302
    assert "Effacement approuvé et exécuté ; le parcours pseudonyme est conservé." in text(
        colleague.get(done.headers["Location"]))
    session.expire_all()
    assert (record.identity_sealed, record.pseudonym, record.erased_at is not None) == (
        None, None, True)
    actions = session.execute(sa.select(AuditEntry.action, AuditEntry.actor_user_id).where(
        AuditEntry.action.like("erasure.%") | (AuditEntry.action == "participant.erase"))
        .order_by(AuditEntry.id)).all()
    asker, approver = people["users"]["admin"][0].id, actions[-1][1]
    assert [a for a, _ in actions] == ["erasure.request", "participant.erase",
                                       "erasure.approve"]
    assert actions[0][1] == asker
    assert approver != asker
    entry = session.execute(sa.select(AuditEntry).where(
        AuditEntry.action == "participant.erase")).scalar_one()
    assert entry.purpose == form["reason"]


def test_an_erasure_can_be_refused_or_delete_the_pathway(
        app: Any, web: Any, session: Any, keyring: Any, people: Any) -> None:
    client = web("admin")
    colleague = _second_admin(app, session, people)
    kept, gone = _registered(session, keyring), _registered(session, keyring)
    gone_uuid = gone.uuid
    for record, mode in ((kept, "keep_pathway"), (gone, "delete_pathway")):
        _opened(session, people, record)
        assert post_form(client, "/admin/effacements/confirmer", {
            "participant_id": str(record.uuid), "mode": mode, "confirm": "on",
            "reason": "Demande de suppression complète reçue"}).status_code == 302
    requests = dict(session.execute(sa.select(ErasureRequest.participant_uuid,
                                              ErasureRequest.uuid)).all())
    refused = post_form(colleague, f"/admin/effacements/{requests[kept.uuid]}/refuser",
                        {"reason": "Conservation légale en cours (contentieux)"})
    assert refused.status_code == 302
    session.expire_all()
    assert kept.identity_sealed is not None
    done = post_form(colleague, f"/admin/effacements/{requests[gone_uuid]}/approuver", {})
    assert done.status_code == 302
    session.expire_all()
    assert session.execute(sa.select(Participant).where(
        Participant.uuid == gone_uuid)).first() is None
    assert "Parcours supprimé" in text(client.get("/admin/effacements"))


def test_audit_filters_narrow_the_list(web: Any, session: Any, people: Any) -> None:
    client = web("admin")
    target = user(session, "referent59")
    post_form(client, f"/admin/utilisateurs/{target.uuid}/role", {"role": "coordinator"})
    everything = text(client.get("/admin/journal"))
    assert "Création d'un compte" in everything
    assert "Modification d'un compte" in everything

    response = client.get("/admin/journal?action=user.update")
    updates = text(response)
    assert "Modification d'un compte" in updates
    assert "<code>user.create</code>" not in response.get_data(as_text=True)
    assert "Entrées du journal (1)" in updates

    admin_uuid = user(session, "admin").uuid
    by_admin = text(client.get(f"/admin/journal?user={admin_uuid}&target_type=user"))
    assert "Entrées du journal (1)" in by_admin
    by_target = text(client.get(f"/admin/journal?target_id={target.uuid}"))
    assert "Entrées du journal (2)" in by_target  # created, then its new role
    today = clock.today().isoformat()
    assert "Aucune entrée ne correspond." in text(
        client.get("/admin/journal?date_to=2000-01-01"))
    assert "Aucune entrée ne correspond." not in text(
        client.get(f"/admin/journal?date_from={today}&date_to={today}&result=ok"))
    bad = client.get("/admin/journal?date_from=hier")
    assert bad.status_code == 422
    assert field_error(bad, "date_from") == "Date invalide (jj/mm/aaaa)."


def _drop_guards(session: Any) -> None:
    """As tests/db/test_audit.py does: what a database superuser could do."""
    if session.bind.dialect.name == "sqlite":
        session.execute(sa.text("DROP TRIGGER audit_entry_no_update"))
        session.execute(sa.text("DROP TRIGGER audit_entry_no_delete"))
    else:
        session.execute(sa.text("DROP TRIGGER audit_entry_append_only ON audit_entry"))


def test_the_chain_verification_shows_ok_then_the_break(web: Any, session: Any,
                                                        people: Any) -> None:
    client = web("admin")
    assert "Chaîne vérifiée : aucune entrée modifiée ni supprimée." in text(
        client.get("/admin/journal"))
    victim = session.execute(sa.select(AuditEntry.id).where(
        AuditEntry.action == "user.create").order_by(AuditEntry.id).limit(1)).scalar_one()
    _drop_guards(session)
    session.execute(sa.text("UPDATE audit_entry SET purpose = 'retouche' WHERE id = :id"),
                    {"id": victim})
    page = text(client.get("/admin/journal"))
    assert f"Chaîne rompue à l'entrée n° {victim}." in page
    assert "contenu modifié après coup" in page


def test_key_status_shows_versions_and_rows(web: Any, session: Any, keyring: Any,
                                            people: Any) -> None:
    _registered(session, keyring)
    page = text(web("admin").get("/admin/cles"))
    assert "Chiffrement des identités" in page
    assert "Pseudonyme (index aveugle)" in page
    assert "Clés de similarité (doublons possibles)" in page
    assert "Version en cours : v1" in page
    assert "À jour" in page
    assert "cohort keys rotate --purpose" in page
