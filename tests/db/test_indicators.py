"""Every indicator of domain.md §7 for 62-A1…A6 against hand-computed values.

One data set, built through the real services, covers the edges the spec names: ends on
P.from − 1 and on P.from, enrolments starting after A, events after A, implicit and
explicit closes, voided starts and ends, the 3-month positive-exit window on both sides,
the link-person deadline on and just after, the same person in two actions and
re-entering one, A5 exits by reason. P = 2023, A = 2024-01-31.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.indicators.base import Cut
from cohort.indicators.engine import compute_action
from cohort.models import FollowUpCheck
from cohort.reference import actions_of, programme_by_code
from cohort.services import enrolments, events, followups, structures
from tests.builders import NOW, action, enrol, record, register, runs, structure

D = dt.date
P = Cut(period_from=D(2023, 1, 1), period_to=D(2023, 12, 31), as_of=D(2024, 1, 31))


def _end(session: Session, e: Any, day: dt.date, reason: str = "end_of_support") -> None:
    enrolments.end(session, SYSTEM, e, {"end_date": day, "exit_reason": reason},
                   today=D(2024, 6, 15), now=NOW)


def _void(session: Session, event: Any) -> None:
    events.void(session, SYSTEM, event, "erreur de saisie", now=NOW)


def _operation(session: Session, code: str, kind: str, start: dt.date, end: dt.date | None,
               hours: str | None = None) -> Any:
    return structures.create_operation(session, SYSTEM, {
        "action_id": action(session, code).uuid, "kind": kind, "label": f"{code} {kind}",
        "start_date": start, "end_date": end,
        "planned_hours": Decimal(hours) if hours else None}, now=NOW)


@pytest.fixture
def world(session: Session, keyring: Any) -> dict[str, Any]:
    s, k = session, keyring
    ml = structure(s)

    # 62-A2 — accompanied, positive exits, hours.
    p1 = register(s, k, birth_date=D(1993, 1, 1), ase_past=False)
    e = enrol(s, k, p1, "62-A2", runs(s, "62-A2"), D(2023, 1, 10), rsa_at_entry=True)
    record(s, k, p1, "employment_start", D(2023, 6, 1), contract="cdi")
    _end(s, e, D(2023, 6, 30), "employment")
    p2 = register(s, k, birth_date=D(2002, 6, 1), ase_past=False)
    e = enrol(s, k, p2, "62-A2", runs(s, "62-A2"), D(2022, 5, 1))
    _end(s, e, D(2022, 12, 31))  # ends on P.from − 1: not accompanied in P
    p3 = register(s, k, birth_date=D(2000, 6, 1), ase_past=False)
    e = enrol(s, k, p3, "62-A2", runs(s, "62-A2"), D(2022, 6, 1), rsa_at_entry=True)
    _end(s, e, D(2023, 1, 1))  # ends on P.from: accompanied, and an exit in P
    record(s, k, p3, "training_start", D(2023, 4, 1), qualifying=True)  # end + 3 months: in
    p4 = register(s, k, birth_date=D(1983, 1, 1), ase_past=False)
    e = enrol(s, k, p4, "62-A2", runs(s, "62-A2"), D(2023, 2, 1), rsa_at_entry=True)
    _end(s, e, D(2023, 5, 31))
    record(s, k, p4, "employment_start", D(2023, 9, 1), contract="cdd",
           planned_months=6)  # end + 3 months is 31 August: one day late
    p5 = register(s, k, birth_date=D(1999, 1, 1), ase_past=False)
    e = enrol(s, k, p5, "62-A2", runs(s, "62-A2"), D(2023, 3, 1))
    record(s, k, p5, "employment_start", D(2023, 11, 1), contract="cdd", planned_months=3)
    _end(s, e, D(2023, 11, 30))
    record(s, k, p5, "training_start", D(2024, 2, 20), qualifying=True)  # after A: ignored
    p6 = register(s, k, birth_date=D(1988, 1, 1), ase_past=False)
    enrol(s, k, p6, "62-A2", runs(s, "62-A2"), D(2024, 2, 1), rsa_at_entry=True)  # starts after A
    p7 = register(s, k, birth_date=D(2004, 1, 1), ase_past=False)
    e = enrol(s, k, p7, "62-A2", runs(s, "62-A2"), D(2023, 12, 1))
    _end(s, e, D(2024, 2, 15))  # ends after A: still open as of A
    site = _operation(s, "62-A2", "clause_site", D(2023, 1, 1), D(2023, 12, 31), "1820")
    _operation(s, "62-A2", "clause_site", D(2022, 1, 1), D(2022, 12, 31), "500")
    record(s, k, p1, "clause_hours", D(2023, 3, 31), operation_id=site.uuid, hours="100")
    record(s, k, p1, "clause_hours", D(2024, 1, 15), operation_id=site.uuid, hours="50")
    _void(s, record(s, k, p1, "clause_hours", D(2023, 4, 30), operation_id=site.uuid,
                    hours="30"))

    # 62-A1 — operations, publics, pathway moves; re-entry; a person of another action.
    o1 = _operation(s, "62-A1", "insertion_operation", D(2023, 1, 1), None)
    b1 = register(s, k, birth_date=D(1983, 5, 5), ase_past=False)
    e = enrol(s, k, b1, "62-A1", runs(s, "62-A1"), D(2023, 1, 1), rsa_at_entry=True)
    record(s, k, b1, "training_start", D(2023, 2, 1), qualifying=False)
    _end(s, e, D(2023, 6, 30))
    record(s, k, b1, "employment_start", D(2023, 7, 15), contract="cdi")  # outside enrolment
    b3 = register(s, k, birth_date=D(2003, 1, 1), ase_past=False)
    e = enrol(s, k, b3, "62-A1", runs(s, "62-A1"), D(2023, 3, 1))
    _end(s, e, D(2023, 4, 30))
    record(s, k, b3, "employment_start", D(2023, 5, 15), contract="cdd", planned_months=6)
    enrol(s, k, b3, "62-A1", runs(s, "62-A1"), D(2023, 9, 1), rsa_at_entry=True)  # re-entry
    record(s, k, b3, "training_start", D(2023, 9, 10), qualifying=True)
    record(s, k, p5, "contact", D(2023, 5, 1), operation_id=o1.uuid, mode="meeting")

    # 62-A6 — turned 18, link person, status on the last observable day.
    y1 = register(s, k, birth_date=D(2005, 3, 10), ase_past=True)
    e = enrol(s, k, y1, "62-A6", ml, D(2022, 9, 1))
    record(s, k, y1, "link_person_chosen", D(2023, 6, 30))  # deadline 30 June: on time
    record(s, k, y1, "resource_start", D(2023, 1, 1), resource="young_adult_allowance")
    record(s, k, y1, "housing_entry", D(2023, 2, 1), housing_type="social_rental")
    _void(s, record(s, k, y1, "housing_exit", D(2023, 7, 1), reason="other"))  # voided end
    record(s, k, y1, "training_start", D(2023, 9, 1), qualifying=True)
    record(s, k, y1, "training_end", D(2023, 10, 31))
    _end(s, e, D(2023, 10, 31))
    record(s, k, y1, "housing_exit", D(2023, 11, 15), reason="moved_by_choice")
    y2 = register(s, k, birth_date=D(2005, 5, 20), ase_past=True)
    enrol(s, k, y2, "62-A6", ml, D(2023, 1, 15))
    record(s, k, y2, "link_person_chosen", D(2023, 9, 1))  # deadline 31 August: one day late
    record(s, k, y2, "housing_entry", D(2023, 2, 1), housing_type="family")
    _void(s, record(s, k, y2, "housing_entry", D(2023, 5, 1),
                    housing_type="private_rental"))  # voided start
    record(s, k, y2, "scheme_entry", D(2023, 3, 1), scheme="cej")
    y3 = register(s, k, birth_date=D(2006, 2, 1), ase_past=True)
    enrol(s, k, y3, "62-A6", ml, D(2023, 2, 1))
    record(s, k, y3, "housing_entry", D(2023, 3, 1), housing_type="sliding_lease")
    record(s, k, y3, "housing_entry", D(2023, 8, 1), housing_type="emergency_shelter")
    record(s, k, y3, "employment_start", D(2023, 6, 1), contract="cdd", planned_months=3)
    wage = record(s, k, y3, "resource_start", D(2023, 6, 1), resource="wage")
    record(s, k, y3, "resource_end", D(2023, 12, 31), closes=wage.uuid)  # explicit close
    y4 = register(s, k, birth_date=D(2004, 12, 5), ase_past=True)
    enrol(s, k, y4, "62-A6", ml, D(2023, 3, 1))
    record(s, k, y4, "housing_entry", D(2024, 1, 10), housing_type="social_rental")

    # 62-A4 — support breaks, measures in use.
    a1 = register(s, k, birth_date=D(2003, 1, 1), ase_past=True)
    e1 = enrol(s, k, a1, "62-A4", runs(s, "62-A4"), D(2023, 1, 1), intensity="reinforced")
    record(s, k, a1, "support_break", D(2023, 3, 1), enrolment_id=e1.uuid, reason="absent")
    record(s, k, a1, "support_resumed", D(2023, 4, 1), enrolment_id=e1.uuid)
    record(s, k, a1, "support_break", D(2023, 6, 1), enrolment_id=e1.uuid, reason="absent")
    a2 = register(s, k, birth_date=D(2001, 1, 1), ase_past=True)
    e2 = enrol(s, k, a2, "62-A4", runs(s, "62-A4"), D(2023, 2, 1), intensity="simple")
    record(s, k, a2, "support_break", D(2023, 5, 1), enrolment_id=e2.uuid, reason="parti")
    _end(s, e2, D(2023, 6, 30))
    a3 = register(s, k, birth_date=D(2000, 1, 1), ase_past=True)
    enrol(s, k, a3, "62-A4", runs(s, "62-A4"), D(2023, 9, 1), intensity="simple")

    # 62-A5 — housing through the programme, exits by reason.
    h1 = register(s, k, birth_date=D(2004, 1, 1), ase_past=True)
    enrol(s, k, h1, "62-A5", ml, D(2023, 1, 1))
    record(s, k, h1, "housing_entry", D(2023, 2, 1), housing_type="social_rental",
           via_programme=True)
    record(s, k, h1, "housing_exit", D(2023, 9, 1), reason="eviction")
    record(s, k, h1, "housing_entry", D(2023, 10, 1), housing_type="private_rental",
           via_programme=True)
    record(s, k, h1, "housing_exit", D(2023, 12, 1), reason="moved_by_choice")
    h2 = register(s, k, birth_date=D(2003, 1, 1), ase_past=True)
    enrol(s, k, h2, "62-A5", ml, D(2023, 1, 1))
    record(s, k, h2, "housing_entry", D(2023, 3, 1), housing_type="youth_residence")
    record(s, k, h2, "housing_exit", D(2023, 4, 1), reason="other")
    h3 = register(s, k, birth_date=D(2002, 1, 1), ase_past=True)
    enrol(s, k, h3, "62-A5", ml, D(2023, 3, 1))
    record(s, k, h3, "housing_entry", D(2022, 12, 1), housing_type="sliding_lease",
           via_programme=True)
    record(s, k, h3, "housing_exit", D(2023, 5, 1), reason="other")
    _operation(s, "62-A5", "housing_partner", D(2022, 1, 1), None)

    # 62-A3 — childcare overlapping P.
    c1 = register(s, k, birth_date=D(1993, 1, 1), ase_past=False)
    e = enrol(s, k, c1, "62-A3", ml, D(2023, 1, 1), rsa_at_entry=True, parent_child_0_3=True)
    record(s, k, c1, "childcare_start", D(2023, 2, 1), enrolment_id=e.uuid,
           child_birth_month="2022-06")
    c2 = register(s, k, birth_date=D(1999, 3, 1), ase_past=False)
    e = enrol(s, k, c2, "62-A3", ml, D(2022, 3, 1), parent_child_0_3=True)
    record(s, k, c2, "childcare_start", D(2022, 4, 1), enrolment_id=e.uuid,
           child_birth_month="2021-09")
    record(s, k, c2, "childcare_end", D(2023, 1, 1), enrolment_id=e.uuid)  # end = P.from
    c3 = register(s, k, birth_date=D(1995, 1, 1), ase_past=False)
    e = enrol(s, k, c3, "62-A3", ml, D(2023, 5, 1), rsa_at_entry=True, parent_child_0_3=True)
    record(s, k, c3, "childcare_start", D(2023, 6, 1), enrolment_id=e.uuid,
           child_birth_month="2023-01")
    _operation(s, "62-A3", "creche_project", D(2023, 9, 1), None)

    # Six-month checks (every action): due in P when the end is in 2022-07-01…2023-06-30.
    _check(s, k, p1, "reached", D(2024, 1, 10), situation={
        "employment": {"contract": "cdi"}, "training": None, "school": False,
        "scheme": None, "housing_type": "family", "resources": []})
    _check(s, k, b1, "not_reached", D(2024, 1, 5), attempts=3)
    _check(s, k, a2, "refused", D(2024, 2, 1))  # recorded after A: not done as of A
    s.flush()
    return {"y1": y1, "y4": y4}


def _check(session: Session, keyring: Any, participant: Any, outcome: str, day: dt.date,
           **extra: Any) -> None:
    check = session.execute(sa.select(FollowUpCheck).where(
        FollowUpCheck.participant_id == participant.id)).scalar_one()
    followups.record_result(session, keyring, SYSTEM, check.uuid, {
        "expected_version": check.version, "date": day, "outcome": outcome,
        "attempts": extra.get("attempts"), "situation": extra.get("situation")},
        today=D(2024, 6, 15), now=NOW)


def values(session: Session, cut: Cut = P) -> dict[str, dict[str, Any]]:
    programme = programme_by_code(session, "erbm-2023")
    out = {}
    for a in actions_of(session, programme, departement="62"):
        for result in compute_action(session, programme, a, cut):
            out[f"{a.code}/{result.code}"] = result.values
    return out


EXPECTED = {
    "62-A1/operations": {"value": 1},
    "62-A1/publics": {"value": 3},
    "62-A1/pathway_moves": {"value": 2},
    "62-A1/accompanied": {"value": 2, "rsa": 2, "under_26": 1},
    "62-A2/accompanied": {"value": 5, "rsa": 3, "under_26": 3},
    "62-A2/planned_hours": {"value": 1820.0, "fte": 1.0},
    "62-A2/realised_hours": {"value": 100.0, "fte": 0.05},
    "62-A2/positive_exits": {"value": 2, "rsa": 2, "under_26": 1},
    "62-A3/projects": {"value": 1},
    "62-A3/accompanied": {"value": 3, "rsa": 2, "under_26": 1},
    "62-A3/childcare": {"value": 2, "rsa": 2, "under_26": 0},
    "62-A4/accompanied": {"value": 3},
    "62-A4/support_breaks": {"value": 3, "people": 2},
    "62-A4/measures_in_use": {"value": 1.5, "measures": 2},
    "62-A5/housed": {"value": 1},
    "62-A5/left_housing": {"value": 2, "by_moved_by_choice": 1, "by_eviction": 1,
                           "by_other": 1},
    "62-A5/partners": {"value": 1},
    "62-A6/accompanied": {"value": 4},
    "62-A6/turned_18": {"value": 2},
    "62-A6/link_person": {"value": 1},
    "62-A6/stable_housing": {"value": 1},
    "62-A6/resources": {"value": 1},
    "62-A6/pathway": {"value": 2},
}
# Follow-up checks as of A = 2024-01-31 (due = end + 6 months; overdue when not done and
# due + 45 days < A). 62-A1: b1 (end 30/06, due 31/12, not reached on 05/01) and b3
# (end 30/04, due 30/10, overdue). 62-A2: p1 (due 31/12, reached on 10/01 in a CDI, living
# with family, no resource recorded), p2 (end 31/12/2022, due 30/06), p3 (end 01/01, due
# 01/07) and p4 (end 31/05, due 30/11, window closed 14/01) overdue; p5's is due in 2024;
# p7 ends after A. 62-A4: a2 (due 31/12) refused on 01/02, after A: neither done nor
# overdue. 62-A6: y1's is due in 2024. 62-A3 and 62-A5: nobody has ended.
CHECKS = {
    "62-A1": {"due": 2, "done": 1, "overdue": 1, "reached": 0},
    "62-A2": {"due": 4, "done": 1, "overdue": 3, "reached": 1, "in_pathway": 1,
              "durable_employment": 1},
    "62-A4": {"due": 1},
}
COMMON = {"checks_due": "due", "checks_done": "done", "checks_overdue": "overdue",
          "checks_reached": "reached", "six_months_in_pathway": "in_pathway",
          "six_months_durable_employment": "durable_employment",
          "six_months_stably_housed": "stably_housed",
          "six_months_has_resources": "has_resources"}
for _code in ("62-A1", "62-A2", "62-A3", "62-A4", "62-A5", "62-A6"):
    for _indicator, _count in COMMON.items():
        EXPECTED[f"{_code}/{_indicator}"] = {"value": CHECKS.get(_code, {}).get(_count, 0)}


def test_every_indicator_matches_hand_computed_values(world: Any, session: Session) -> None:
    assert values(session) == EXPECTED


def test_recorded_before_reproduces_after_corrections(world: Any, session: Session,
                                                      keyring: Any) -> None:
    sent = values(session)
    report_time = dt.datetime.now(dt.UTC)
    later = report_time + dt.timedelta(minutes=5)
    ml = structure(session, kind="mission_locale")
    y1 = world["y1"]
    from cohort.models import Event

    entry = session.query(Event).filter_by(participant_id=y1.id, type="housing_entry").one()
    events.void(session, SYSTEM, entry, "logement saisi par erreur", now=later)
    late = register(session, keyring, birth_date=D(2005, 1, 1), ase_past=True)
    enrolments.enrol(session, keyring, SYSTEM, {
        "participant_id": late.uuid, "action_id": action(session, "62-A6").uuid,
        "structure_id": ml.uuid, "start_date": D(2023, 6, 1), "rsa_at_entry": False},
        today=D(2024, 6, 15), now=later)
    session.flush()
    now_values = values(session)
    assert now_values["62-A6/stable_housing"] == {"value": 0}
    assert now_values["62-A6/accompanied"] == {"value": 5}
    replay = values(session, Cut(P.period_from, P.period_to, P.as_of,
                                 recorded_before=report_time))
    assert replay == sent
