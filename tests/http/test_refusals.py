"""Every refusal rule of domain.md §3-§5: the status code and the field named."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.builders import person
from tests.http.conftest import Api, assert_refused, jsonable


@pytest.fixture
def youth(api: Api) -> dict[str, str]:
    """A 17-year-old ASE youth (born 2005-03-10) enrolled in 62-A6 on 2023-02-01."""
    ml = api.structure()
    pid = api.participant(birth_date=dt.date(2005, 3, 10), ase_past=True)
    enrolment = api.enrol(pid, "62-A6", ml).get_json()["id"]
    return {"participant": pid, "structure": ml, "enrolment": enrolment}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"last_name": " -- ' "}, "last_name"),
        ({"first_names": "🙂"}, "first_names"),
        ({"birth_date": "2005-02-30"}, "birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"nir": "2 05 03 62 193 005 00"}, "nir"),
        ({"sex": "X"}, "sex"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_registration_refusals(api: Api, overrides: dict[str, Any], field: str) -> None:
    body = jsonable(person()) | overrides
    response = api.post("/api/v1/participants", body)
    assert_refused(response, 422, field)
    assert body["last_name"] not in response.get_data(as_text=True)


def test_missing_identity_field_is_named(api: Api) -> None:
    body = jsonable(person())
    del body["first_names"]
    assert_refused(api.post("/api/v1/participants", body), 422, "first_names")


@pytest.mark.parametrize(
    ("code", "birth", "ase", "extra", "reason"),
    [
        ("62-A6", dt.date(2000, 1, 1), True, {}, "between 16 and 21"),     # 23 at entry
        ("62-A6", dt.date(2007, 6, 1), True, {}, "between 16 and 21"),     # 15 at entry
        ("62-A6", dt.date(2005, 3, 10), False, {}, "ASE"),
        ("62-A5", dt.date(2005, 3, 10), True, {}, "between 18 and 24"),    # 17 at entry
        ("62-A4", dt.date(1997, 3, 10), True, {"intensity": "simple"}, "24"),  # 25 at entry
        ("62-A1", dt.date(1990, 3, 10), False, {}, "RSA"),                 # 32, no RSA
        ("62-A3", dt.date(2000, 3, 10), False, {"rsa_at_entry": True}, "0-3"),
    ],
)
def test_ineligible_enrolment_names_the_rule(api: Api, code: str, birth: dt.date, ase: bool,
                                             extra: dict[str, Any], reason: str) -> None:
    pid = api.participant(birth_date=birth, ase_past=ase)
    response = api.enrol(pid, code, api.structure_for(code), start="2023-02-01", status=None,
                         **extra)
    body = assert_refused(response, 422, "eligibility")
    assert reason in body["errors"]["json"]["eligibility"][0]
    assert body["reason"] == "ineligible"


def test_each_failed_eligibility_rule_is_its_own_message(api: Api) -> None:
    pid = api.participant(birth_date=dt.date(2000, 1, 1), ase_past=False)  # 23, never ASE
    response = api.enrol(pid, "62-A6", api.structure(), start="2023-02-01", status=None)
    body = assert_refused(response, 422, "eligibility")
    reasons = body["errors"]["json"]["eligibility"]
    assert len(reasons) == 2
    assert any("ASE" in r for r in reasons)
    assert any("between 16 and 21" in r for r in reasons)
    assert body["message"] == "eligibility: " + "; ".join(reasons)


def test_forcing_needs_a_justification(api: Api) -> None:
    pid = api.participant(birth_date=dt.date(1990, 3, 10), ase_past=False)
    response = api.enrol(pid, "62-A1", api.structure(), status=None, force=True)
    assert_refused(response, 422, "force_justification")
    forced = api.enrol(pid, "62-A1", api.structure(), force=True,
                       force_justification="Orientation décidée en commission").get_json()
    assert forced["forced"] is True


def test_enrolment_rules(api: Api, youth: dict[str, str]) -> None:
    again = api.enrol(youth["participant"], "62-A6", youth["structure"], start="2023-03-01",
                      status=None)
    assert_refused(again, 409, "action_id")
    future = api.enrol(youth["participant"], "62-A5", youth["structure"], start="2999-01-01",
                       status=None)
    assert_refused(future, 422, "start_date")
    a4 = api.enrol(youth["participant"], "62-A4", youth["structure"], status=None)
    assert_refused(a4, 422, "intensity")
    url = f"/api/v1/enrolments/{youth['enrolment']}/end"
    before = api.post(url, {"end_date": "2023-01-31", "exit_reason": "other"})
    assert_refused(before, 422, "end_date")
    assert_refused(api.post(url, {"end_date": "2023-05-31", "exit_reason": "bored"}), 422,
                   "exit_reason")
    api.post(url, {"end_date": "2023-05-31", "exit_reason": "end_of_support"}, 200)
    assert_refused(api.post(url, {"end_date": "2023-06-30", "exit_reason": "other"}), 409,
                   "end_date")


def test_event_refusals(api: Api, youth: dict[str, str]) -> None:
    pid = youth["participant"]
    assert_refused(api.event(pid, "housing_exit", "2023-03-01", status=None,
                             reason="other"), 422, "type")
    assert_refused(api.event(pid, "training_start", "2999-01-01", status=None,
                             qualifying=True), 422, "date")
    assert_refused(api.event(pid, "training_start", "2005-03-09", status=None,
                             qualifying=True), 422, "date")
    assert_refused(api.event(pid, "training_start", "2022-01-31", status=None,
                             qualifying=True), 422, "date")  # > 1 year before first enrolment
    api.event(pid, "training_start", "2022-02-01", qualifying=True)  # exactly one year: accepted
    assert_refused(api.event(pid, "support_break", "2023-03-01", status=None,
                             reason="absent"), 422, "enrolment_id")
    assert_refused(api.event(pid, "clause_hours", "2023-03-01", status=None,
                             hours="35"), 422, "operation_id")
    assert_refused(api.event(pid, "housing_entry", "2023-03-01", status=None,
                             housing_type="castle"), 422, "attributes.housing_type")
    assert_refused(api.event(pid, "employment_start", "2023-03-01", status=None,
                             contract="cdd"), 422, "attributes.planned_months")
    assert_refused(api.event(pid, "contact", "2023-03-01", status=None, mode="phone",
                             mood="good"), 422, "attributes.mood")

    housing = api.event(pid, "housing_entry", "2023-03-01", housing_type="family").get_json()
    assert_refused(api.event(pid, "training_end", "2023-04-01", status=None,
                             closes=housing["id"]), 422, "closes")  # another family
    other = api.participant()
    api.enrol(other, "62-A6", youth["structure"])
    foreign = api.event(other, "housing_entry", "2023-03-01",
                        housing_type="family").get_json()
    assert_refused(api.event(pid, "housing_exit", "2023-04-01", status=None, reason="other",
                             closes=foreign["id"]), 422, "closes")  # another participant
    api.event(pid, "housing_exit", "2023-04-01", reason="other", closes=housing["id"])
    assert_refused(api.event(pid, "housing_exit", "2023-05-01", status=None, reason="other",
                             closes=housing["id"]), 422, "closes")  # already closed


def test_unknown_ids_are_404(api: Api, youth: dict[str, str]) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert api.client.get(f"/api/v1/participants/{missing}").status_code == 404
    assert_refused(api.event(missing, "contact", "2023-03-01", status=None, mode="phone"),
                   404, "participant_id")
    assert_refused(api.enrol(youth["participant"], "62-A5", missing, status=None), 404,
                   "structure_id")
