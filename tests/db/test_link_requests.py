"""Registration suggestions, link requests and the duplicates report, on both databases:
the three spellings of the issue, a record followed elsewhere that reveals nothing, a
request accepted (linked) or rejected, a NIR already used, the report and its dismissals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor
from cohort.auth import actor_for
from cohort.errors import Conflict, Forbidden, Rejected
from cohort.identity.keyring import Keyring
from cohort.models import AuditEntry, LinkRequest, Participant
from cohort.services import (
    data_quality,
    duplicate_report,
    lifecycle,
    link_requests,
    participants,
    registration,
)
from tests.builders import NOW, TODAY, enrol, person

BIRTH = dt.date(2003, 7, 21)
ISSUE_SPELLINGS = ("Dupont Le Fevre", "Dupond-Lefèvre", "dupont lefèvre")


def _nir(sex: str, birth: dt.date, dept: str) -> str:
    from stdnum.fr import nir

    base = f"{sex}{birth.year % 100:02d}{birth.month:02d}{dept}123456"
    return base + nir.calc_check_digits(base)


def actor(people: dict[str, Any], login: str) -> Actor:
    user = people["users"][login][0]
    structure = next(s for s in people["structures"].values() if s.id == user.structure_id)
    return actor_for(user, structure)


def identity(last_name: str, **more: Any) -> dict[str, Any]:
    return person(last_name=last_name, first_names="Marjolaine", birth_date=BIRTH, **more)


def register(session: Session, keyring: Keyring, who: Actor, data: dict[str, Any]
             ) -> Participant:
    return participants.register(session, keyring, who, data, today=TODAY, now=NOW).participant


def audits(session: Session, action: str) -> list[AuditEntry]:
    return list(session.execute(sa.select(AuditEntry).where(AuditEntry.action == action)
                                .order_by(AuditEntry.id)).scalars())


def test_the_three_spellings_suggest_the_first_once(session: Session, keyring: Keyring,
                                                    people: dict[str, Any]) -> None:
    ml = actor(people, "coord_ml")
    first = register(session, keyring, ml, identity(ISSUE_SPELLINGS[0]))
    enrol(session, keyring, first, "62-A6", people["structures"]["ml"], dt.date(2024, 1, 8))
    for spelling in ISSUE_SPELLINGS[1:]:
        found = registration.suggestions(session, keyring, ml, identity(spelling), now=NOW)
        assert [k.participant_uuid for k in found.known] == [first.uuid]
        shown = found.known[0]
        assert (shown.last_name, shown.first_names, shown.birth_date) == (
            ISSUE_SPELLINGS[0], "Marjolaine", BIRTH)
        assert [e["action_code"] for e in shown.enrolments] == ["62-A6"]
        assert not found.elsewhere
    # Each showing of an identity is audited, with its purpose.
    reads = audits(session, "participant.identity_read")
    assert len(reads) == 2
    assert {r.purpose for r in reads} == {registration.PURPOSE}


def test_a_record_followed_elsewhere_is_only_a_flag(session: Session, keyring: Keyring,
                                                    people: dict[str, Any]) -> None:
    register(session, keyring, actor(people, "coord_ml"), identity(ISSUE_SPELLINGS[0]))
    found = registration.suggestions(session, keyring, actor(people, "coord_plie"),
                                     identity(ISSUE_SPELLINGS[1]), now=NOW)
    assert found.known == []
    assert found.elsewhere
    assert not found.nir_elsewhere
    assert audits(session, "participant.identity_read") == []


def test_an_exact_identity_is_not_a_suggestion(session: Session, keyring: Keyring,
                                               people: dict[str, Any]) -> None:
    ml = actor(people, "coord_ml")
    register(session, keyring, ml, identity(ISSUE_SPELLINGS[0]))
    found = registration.suggestions(session, keyring, ml, identity("DUPONT LE FEVRE"), now=NOW)
    assert not found.any


def _filed(session: Session, keyring: Keyring, people: dict[str, Any]
           ) -> tuple[Participant, Participant, LinkRequest]:
    theirs = register(session, keyring, actor(people, "coord_ml"), identity(ISSUE_SPELLINGS[0]))
    plie = actor(people, "coord_plie")
    mine = register(session, keyring, plie, identity(ISSUE_SPELLINGS[1]))
    filed = link_requests.file_request(session, keyring, plie, mine,
                                       reason="Suivie à Lens en 2023, dit-elle", now=NOW)
    assert filed.created
    return mine, theirs, filed.request


def test_a_request_accepted_links_the_two_records(session: Session, keyring: Keyring,
                                                  people: dict[str, Any]) -> None:
    mine, theirs, request = _filed(session, keyring, people)
    assert (request.participant_id, request.candidate_id) == (mine.id, theirs.id)
    assert link_requests.pending_count(session) == 1
    # Filing again answers the pending request.
    again = link_requests.file_request(session, keyring, actor(people, "coord_plie"), mine,
                                       reason="Deuxième clic sur le bouton", now=NOW)
    assert (again.request.id, again.created) == (request.id, False)

    admin = actor(people, "admin")
    with pytest.raises(Forbidden):
        link_requests.accept(session, actor(people, "coord_plie"), request.uuid, now=NOW)
    first, second = link_requests.open_pair(session, keyring, admin, mine, theirs,
                                            purpose="Examen de la demande de rapprochement",
                                            now=NOW)
    assert (first["last_name"], second["last_name"]) == ISSUE_SPELLINGS[1::-1]
    opened = audits(session, "participant.exceptional_access")
    assert [(a.target_id, a.purpose) for a in opened] == [
        (str(mine.uuid), "Examen de la demande de rapprochement"),
        (str(theirs.uuid), "Examen de la demande de rapprochement")]

    plie = actor(people, "coord_plie")
    [waiting] = data_quality.report(session, plie, today=TODAY, kind="link_request_pending")
    assert [(line.participant_id, line.subject_id, line.detail) for line in waiting.items] == [
        (mine.uuid, request.uuid, "similar")]  # the structure's own record, never theirs
    link_requests.accept(session, admin, request.uuid, now=NOW)
    assert (mine.merged_into_id, request.status) == (theirs.id, "accepted")
    assert data_quality.counts(session, plie, today=TODAY)["link_request_pending"] == 0
    link_requests.accept(session, admin, request.uuid, now=NOW)  # idempotent
    assert len(audits(session, "participant.link")) == 1
    assert len(audits(session, "link_request.accept")) == 1
    with pytest.raises(Conflict):
        link_requests.reject(session, admin, request.uuid, reason="Trop tard pour refuser",
                             now=NOW)


def test_a_request_rejected_keeps_two_records(session: Session, keyring: Keyring,
                                              people: dict[str, Any]) -> None:
    mine, _, request = _filed(session, keyring, people)
    admin = actor(people, "admin")
    with pytest.raises(Rejected) as short:
        link_requests.reject(session, admin, request.uuid, reason="non", now=NOW)
    assert short.value.field == "reason"
    link_requests.reject(session, admin, request.uuid, reason="Homonymes : NIR différents",
                         now=NOW)
    link_requests.reject(session, admin, request.uuid, reason="Homonymes : NIR différents",
                         now=NOW)
    assert (request.status, mine.merged_into_id) == ("rejected", None)
    assert len(audits(session, "link_request.reject")) == 1
    with pytest.raises(Conflict):
        link_requests.accept(session, admin, request.uuid, now=NOW)


def test_no_request_without_a_record_followed_elsewhere(session: Session, keyring: Keyring,
                                                        people: dict[str, Any]) -> None:
    plie = actor(people, "coord_plie")
    alone = register(session, keyring, plie, identity("Singulariste"))
    with pytest.raises(Rejected) as refused:
        link_requests.file_request(session, keyring, plie, alone,
                                   reason="Je crois la connaître", now=NOW)
    assert refused.value.field == "participant_id"


def test_a_nir_already_used_leads_to_a_request_for_its_holder(
        session: Session, keyring: Keyring, people: dict[str, Any]) -> None:
    nir = _nir("2", BIRTH, "62")
    holder = register(session, keyring, actor(people, "coord_ml"),
                      identity("Vermandoise", nir=nir))
    plie = actor(people, "coord_plie")
    typed = identity("Vermandoize-Artois", nir=nir)
    found = registration.suggestions(session, keyring, plie, typed, now=NOW)
    assert found.nir_elsewhere
    assert found.known == []
    with pytest.raises(Conflict) as taken:
        register(session, keyring, plie, typed)
    assert "nir" in taken.value.errors
    mine = register(session, keyring, plie, typed | {"nir": None})
    filed = link_requests.file_request(session, keyring, plie, mine, nir=nir,
                                       reason="Le NIR saisi appartient à une autre fiche",
                                       now=NOW)
    assert (filed.request.cause, filed.request.candidate_id) == ("nir", holder.id)
    link_requests.accept(session, actor(people, "admin"), filed.request.uuid, now=NOW)
    assert mine.merged_into_id == holder.id


def _report(session: Session, keyring: Keyring, admin: Actor) -> list[set[Any]]:
    found = duplicate_report.page(session, keyring, admin, after=None, per_page=50, now=NOW)
    return [{pair.first_uuid, pair.second_uuid} for pair in found.items]


def test_the_report_lists_pairs_until_linked_or_dismissed(
        session: Session, keyring: Keyring, people: dict[str, Any]) -> None:
    ml, plie, admin = (actor(people, who) for who in ("coord_ml", "coord_plie", "admin"))
    one = register(session, keyring, ml, identity(ISSUE_SPELLINGS[0]))
    two = register(session, keyring, plie, identity(ISSUE_SPELLINGS[1]))
    swapped = register(session, keyring, plie, person(
        last_name="Quentovic", first_names="Aldegonde", birth_date=dt.date(2001, 4, 9)))
    swapped_again = register(session, keyring, ml, person(
        last_name="Quentovic", first_names="Aldegonde", birth_date=dt.date(2001, 9, 4)))
    register(session, keyring, ml, identity("Solitairon"))
    pairs = _report(session, keyring, admin)
    assert {one.uuid, two.uuid} in pairs
    assert {swapped.uuid, swapped_again.uuid} in pairs
    assert len(pairs) == 2
    assert len(audits(session, "duplicates.report_viewed")) == 1
    with pytest.raises(Forbidden):
        _report(session, keyring, ml)

    record, created = duplicate_report.dismiss(session, admin, two.uuid, one.uuid,
                                               reason="Homonymes nées le même jour", now=NOW)
    assert created
    assert (record.low_id, record.high_id) == (one.id, two.id)
    _, again = duplicate_report.dismiss(session, admin, one.uuid, two.uuid,
                                        reason="Homonymes nées le même jour", now=NOW)
    assert not again
    lifecycle.link(session, admin, swapped_again.uuid, swapped.uuid,
                   reason="Jour et mois inversés à la saisie", now=NOW)
    assert _report(session, keyring, admin) == []


def test_the_report_pages_with_a_cursor(session: Session, keyring: Keyring,
                                        people: dict[str, Any]) -> None:
    ml, admin = actor(people, "coord_ml"), actor(people, "admin")
    for n, last in enumerate(("Hautecloque", "Rivesaltes", "Marchiennes")):
        birth = dt.date(1999, 10, 13 + n)
        register(session, keyring, ml, person(last_name=last, first_names="Eulalie",
                                              birth_date=birth))
        register(session, keyring, ml, person(last_name=last + "s", first_names="Eulalie",
                                              birth_date=birth))
    seen: list[set[Any]] = []
    after = None
    for _ in range(4):
        found = duplicate_report.page(session, keyring, admin, after=after, per_page=2,
                                      now=NOW)
        seen += [{p.first_uuid, p.second_uuid} for p in found.items]
        after = found.next
        if after is None:
            break
    assert len(seen) == 3
    assert len({frozenset(pair) for pair in seen}) == 3
    with pytest.raises(Rejected):
        duplicate_report.Cursor.parse("page-two")
