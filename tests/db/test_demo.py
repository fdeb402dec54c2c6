"""The demo generator on both databases: the plan is written through the services whole.

The generator replays a pure plan; these tests check that every step passed the real
rules (no refusal, no forced enrolment), that the database holds exactly what the plan
says, and that the demo shows every action, event type, void and repeat registration.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import demo
from cohort.clock import PARIS
from cohort.demo_cli import demo_group
from cohort.domain import eligibility
from cohort.domain.calendar import add_months
from cohort.domain.enums import EventType
from cohort.domain.event_types import END_TYPES
from cohort.errors import Rejected
from cohort.identity.normalise import identity_key
from cohort.models import (
    Action,
    Enrolment,
    Event,
    EventInterval,
    EventVoid,
    InstanceMeta,
    Operation,
    Participant,
)
from tests.builders import issue

SEED, SIZE, TODAY = 2023, 16, dt.date(2024, 12, 31)
END_OF_TODAY = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(), tzinfo=PARIS)


def _issue_identities(plan: demo.DemoPlan) -> None:
    """Let the whole-run plaintext check look for the demo's names too."""
    for step in plan.steps:
        if isinstance(step.item, demo.Register):
            issue(step.item.identity)


def test_plan_is_pure_and_deterministic() -> None:
    first = demo.plan(seed=SEED, participants=SIZE, today=TODAY)
    assert first == demo.plan(seed=SEED, participants=SIZE, today=TODAY)
    assert first != demo.plan(seed=SEED + 1, participants=SIZE, today=TODAY)
    assert [s.at for s in first.steps] == sorted(s.at for s in first.steps)
    assert all(s.at < END_OF_TODAY for s in first.steps)

    firsts = {s.item.person: s.item.identity for s in first.steps
              if isinstance(s.item, demo.Register) and s.item.creates}
    repeats = [s.item for s in first.steps
               if isinstance(s.item, demo.Register) and not s.item.creates]
    assert repeats
    for again in repeats:  # typed differently, the same person once normalised
        original = firsts[again.person]
        assert (again.identity["last_name"], again.identity["first_names"]) != (
            original["last_name"], original["first_names"])
        assert identity_key(again.identity["last_name"], again.identity["first_names"],
                            again.identity["birth_date"]) == identity_key(
            original["last_name"], original["first_names"], original["birth_date"])

    with pytest.raises(Rejected):
        demo.plan(participants=demo.MIN_PARTICIPANTS - 1)
    with pytest.raises(Rejected):
        demo.plan(today=dt.date(2022, 2, 1))


def test_generate_writes_the_whole_plan_through_the_services(session: Session,
                                                             keyring: Any) -> None:
    plan = demo.plan(seed=SEED, participants=SIZE, today=TODAY)
    _issue_identities(plan)
    summary = demo.generate(session, keyring, seed=SEED, participants=SIZE, today=TODAY)

    # Deterministic: what was written is what the seed plans, step for step.
    assert summary == plan.expected()
    assert summary.participants == SIZE
    assert set(summary.enrolments) == set(demo.ACTIONS)
    assert set(summary.events) == {t.value for t in EventType}
    assert summary.voided > 0
    assert summary.duplicate_registrations > 0
    assert summary.registrations == SIZE + summary.duplicate_registrations
    assert summary.people_in_several_actions > 0
    assert summary.enrolments_ended > 0

    # The database agrees with the summary.
    def count(query: Any) -> int:
        return session.execute(sa.select(sa.func.count()).select_from(query)).scalar_one()

    assert count(Participant) == SIZE
    per_action = Counter(session.execute(
        sa.select(Action.code).join(Enrolment, Enrolment.action_id == Action.id)).scalars())
    assert per_action == Counter(summary.enrolments)
    per_type = Counter(session.execute(sa.select(Event.type)).scalars())
    assert per_type == Counter(summary.events)
    assert count(EventVoid) == summary.voided
    assert count(sa.select(Enrolment).where(Enrolment.end_date.is_not(None)).subquery()) \
        == summary.enrolments_ended
    assert count(Operation) == sum(summary.operations.values())
    meta = session.get(InstanceMeta, "demo")
    assert meta is not None
    assert meta.value == "true"

    # Every enrolment passed its action's rules without being forced.
    rows = session.execute(sa.select(Enrolment, Action).join(Action)).all()
    for enrolment, action in rows:
        assert not enrolment.forced
        facts = eligibility.Facts(age=enrolment.age_at_entry, rsa_at_entry=enrolment.rsa_at_entry,
                                  ase_past=enrolment.ase_past,
                                  parent_child_0_3=enrolment.parent_child_0_3)
        assert eligibility.check(action.eligibility, facts).ok, action.code
        assert dt.date(2022, 1, 1) <= enrolment.start_date <= TODAY
        assert enrolment.recorded_at < END_OF_TODAY
    assert {e.intensity for e, a in rows if a.code == "62-A4"} == {"simple", "reinforced"}

    # Dates and recording times stay on or before today; ids grow with recording time.
    events = session.execute(sa.select(Event).order_by(Event.id)).scalars().all()
    assert max(e.date for e in events) <= TODAY
    assert [e.recorded_at for e in events] == sorted(e.recorded_at for e in events)
    assert events[-1].recorded_at < END_OF_TODAY
    first_start = dict(session.execute(
        sa.select(Enrolment.participant_id, sa.func.min(Enrolment.start_date))
        .group_by(Enrolment.participant_id)).all())
    assert all(e.date >= add_months(first_start[e.participant_id], -12) for e in events)

    # Pathway shapes the indicators rely on.
    assert any(e.via_programme for e in events if e.type == "housing_entry")
    assert all(e.operation_id is not None for e in events if e.type == "clause_hours")
    assert all(e.enrolment_id is not None for e in events
               if e.type in ("support_break", "support_resumed", "childcare_start",
                             "childcare_end"))
    assert any(e.qualifying for e in events if e.type == "training_start")
    assert any(e.planned_months for e in events if e.type == "employment_start")
    # Every standing end event closes an interval (voided ones count nowhere).
    closing = set(session.execute(
        sa.select(EventInterval.end_event_id).where(EventInterval.valid_to.is_(None),
                                                    EventInterval.end_event_id.is_not(None))
    ).scalars())
    voided = set(session.execute(sa.select(EventVoid.event_id)).scalars())
    ends = {e.id for e in events if e.type in END_TYPES and e.id not in voided}
    assert ends <= closing

    # A second load is refused: demo data never mixes with other records.
    with pytest.raises(demo.DatabaseNotEmpty):
        demo.generate(session, keyring, seed=SEED, participants=SIZE, today=TODAY)


def test_cli_loads_once_and_prints_counts_and_two_identities_only(app: Any) -> None:
    early = dt.date(2022, 10, 31)  # a short demo: the CLI shell is under test, not the data
    small = demo.plan(seed=7, participants=demo.MIN_PARTICIPANTS, today=early)
    _issue_identities(small)
    runner = app.test_cli_runner()
    args = ["load", "--seed", "7", "--participants", str(demo.MIN_PARTICIPANTS),
            "--today", early.isoformat()]
    loaded = runner.invoke(demo_group, args)
    assert loaded.exit_code == 0, loaded.output
    assert f"participants: {demo.MIN_PARTICIPANTS} " in loaded.output

    # Two identities to search for, as first typed, then the structure that follows them;
    # nobody else is named.
    firsts = {s.item.person: s.item.identity for s in small.steps
              if isinstance(s.item, demo.Register) and s.item.creates}
    shown = [firsts[key] for key in small.showcase]
    assert len(shown) == 2
    lines = [f"  {i['last_name']} {i['first_names']}, born {i['birth_date'].isoformat()}"
             for i in shown]
    printed = loaded.output.splitlines()
    assert printed[-3:-1] == lines
    assert printed[-1].startswith("  followed by ")
    others = {s.item.identity[f] for s in small.steps if isinstance(s.item, demo.Register)
              and s.item.person not in small.showcase for f in ("last_name", "first_names")}
    others -= {i[f] for i in shown for f in ("last_name", "first_names")}
    assert not any(name in loaded.output for name in others)

    again = runner.invoke(demo_group, args)
    assert again.exit_code == 2
    assert "already has participants" in again.output
    quiet = runner.invoke(demo_group, [*args, "--if-empty"])
    assert quiet.exit_code == 0
    assert "not loaded" in quiet.output
    assert quiet.output.splitlines()[-3:] == printed[-3:]  # read back, not recomputed
    assert runner.invoke(demo_group, [*args[:-2], "--participants", "5"]).exit_code == 2


def test_demo_accounts_one_per_role_only_with_demo_keys(session: Session, keyring: Any) -> None:
    from cohort.auth import check_password, token_digest
    from cohort.demo.accounts import DEMO_PASSWORD, DEMO_USERS, ensure_demo_accounts
    from cohort.models import ApiToken, User

    now = dt.datetime(2025, 1, 2, 9, 0, tzinfo=dt.UTC)
    with pytest.raises(Rejected):
        ensure_demo_accounts(session, demo_keys=False, now=now)
    with pytest.raises(Rejected) as no_data:  # the demo structures come with the demo data
        ensure_demo_accounts(session, demo_keys=True, now=now)
    assert no_data.value.errors == {"structures": ["load the demo data first (cohort demo load)"]}
    _issue_identities(demo.plan(seed=SEED, participants=SIZE, today=TODAY))
    demo.generate(session, keyring, seed=SEED, participants=SIZE, today=TODAY)
    first = ensure_demo_accounts(session, demo_keys=True, now=now)
    assert sorted(a.user.role.value for a in first) == sorted(
        ["coordinator", "coordinator", "ase_referent", "evaluator", "pilot", "admin"])
    for account in first:
        user = session.execute(sa.select(User).where(User.email == account.user.email)).scalar_one()
        assert check_password(user.password_hash, DEMO_PASSWORD)
        token = session.execute(sa.select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
        assert token.token_sha256 == token_digest(account.token)
    again = ensure_demo_accounts(session, demo_keys=True, now=now)
    assert [a.token for a in again] == [None] * len(DEMO_USERS)  # nothing issued twice
    assert session.execute(sa.select(sa.func.count()).select_from(ApiToken)).scalar_one() == 6


LOAD_DAY = dt.date(2026, 11, 18)  # a pinned load date, long after the convention year


def test_demo_runs_up_to_its_load_date(session: Session, keyring: Any, app: Any) -> None:
    """What a user sees on the load date: checks in every state, an ASE alert, 2023 data."""
    from cohort.actors import SYSTEM, Actor, Role
    from cohort.indicators import queries
    from cohort.models import Alert, FollowUpCheck
    from cohort.services import alerts, followups

    # A size whose draw leaves checks in every state on LOAD_DAY (the draw moved when 62-A1
    # went to the PLIE alone, domain.md §2 "Operators": at 40 no check was in its window).
    size = 44
    plan = demo.plan(seed=SEED, participants=size, today=LOAD_DAY)
    _issue_identities(plan)
    summary = demo.generate(session, keyring, seed=SEED, participants=size, today=LOAD_DAY)
    assert summary == plan.expected()
    assert summary.followup_results.get("reached", 0) > 0
    # Every demo structure enrols only where it may (domain.md §2 "Operators").
    from cohort.services.enrolments import operator_violations
    assert operator_violations(session) == []

    # The pathways run up to the load date.
    latest = session.execute(sa.select(sa.func.max(Event.date))).scalar_one()
    assert (latest.year, latest.month) == (LOAD_DAY.year, LOAD_DAY.month)
    assert latest <= LOAD_DAY

    # The worklist on the load date: upcoming, due, done and overdue checks.
    states = followups.state_counts(session, SYSTEM, {}, today=LOAD_DAY)
    assert states["due"] > 0
    assert states["done"] > 0
    assert states["overdue"] > 0
    done = session.execute(sa.select(FollowUpCheck).where(
        FollowUpCheck.status == "done", FollowUpCheck.outcome == "reached")).scalars().all()
    assert done
    assert all(c.situation and not c.event_ids for c in done)  # confirmed, nothing added
    assert any(c.in_pathway or c.has_resources for c in done)  # outcomes are not all 0

    # The sweep ran: the ASE referent of the Pas-de-Calais sees an open overdue alert.
    referent = Actor(role=Role.ASE_REFERENT, departement="62")
    open_alerts = session.execute(alerts.alert_query(referent, {
        "status": ["open"], "cause": "overdue_check"})).scalars().all()
    assert open_alerts
    for alert in open_alerts:
        participant = session.get(Participant, alert.participant_id)
        assert participant is not None
        assert participant.ase_past
    assert session.execute(sa.select(sa.func.count()).select_from(Alert)).scalar_one() \
        >= len(open_alerts)

    # The convention year still has its data: the 2023 indicators are not empty.
    report = queries.indicators(session, SYSTEM, {
        "programme": demo.PROGRAMME_CODE, "departement": "62", "mode": "internal"}, app.config,
        today=LOAD_DAY, now=dt.datetime.combine(LOAD_DAY, dt.time(18), tzinfo=dt.UTC))
    accompanied = [i["value"] for block in report["actions"] for i in block["indicators"]
                   if i["code"] == "accompanied"]
    assert accompanied
    assert sum(v or 0 for v in accompanied) > 0

    # The two printed identities are found by the search of the structure named with them.
    from cohort.models import Structure
    from cohort.services import lifecycle

    now = dt.datetime.combine(LOAD_DAY, dt.time(18), tzinfo=dt.UTC)
    shown = demo.showcase(session, keyring, now=now)
    assert shown is not None
    assert len(shown.identities) == 2
    structure = session.execute(sa.select(Structure).where(
        Structure.name == shown.structure)).scalar_one()
    coordinator = Actor(role=Role.COORDINATOR, structure_id=structure.id, departement="62")
    for identity in shown.identities:
        found = lifecycle.find_by_identity(session, keyring, coordinator, {
            k: identity[k] for k in ("last_name", "first_names", "birth_date")}, now=now)
        assert found is not None

    # Deterministic for a seed and a load date.
    assert plan == demo.plan(seed=SEED, participants=size, today=LOAD_DAY)
