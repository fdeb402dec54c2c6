"""Refused at recording time (domain.md §5): an event of an enrolment dated outside its
period, and a start identical to one already recorded (409 naming the existing event)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.http.conftest import Api, assert_refused


def _ended_enrolment(api: Api) -> tuple[str, str]:
    """A participant enrolled from 2023-02-01 to 2023-06-30 (last day of support)."""
    pid = api.participant()
    enrolment = api.enrol(pid, "62-A6", api.structure()).get_json()["id"]
    api.post(f"/api/v1/enrolments/{enrolment}/end",
             {"end_date": "2023-06-30", "exit_reason": "end_of_support"}, 200)
    return pid, enrolment


def test_a_support_break_outside_its_enrolment_is_refused(api: Api) -> None:
    pid, enrolment = _ended_enrolment(api)
    after = api.event(pid, "support_break", "2023-07-01", status=None, reason="absent",
                      enrolment_id=enrolment)
    body = assert_refused(after, 422, "date")
    assert body["errors"]["json"]["date"] == ["is after the end of its enrolment"]
    assert body["reason"] == "outside_enrolment"
    before = api.event(pid, "support_break", "2023-01-31", status=None, reason="absent",
                       enrolment_id=enrolment)
    assert assert_refused(before, 422, "date")["errors"]["json"]["date"] == [
        "is before the start of its enrolment"]
    childcare = api.event(pid, "childcare_start", "2023-08-01", status=None,
                          enrolment_id=enrolment, child_birth_month="2023-05")
    assert_refused(childcare, 422, "date")
    api.event(pid, "support_break", "2023-06-30", reason="absent", enrolment_id=enrolment)
    api.event(pid, "support_resumed", "2023-06-30", enrolment_id=enrolment)
    resumed_late = api.event(pid, "support_resumed", "2023-07-01", status=None,
                             enrolment_id=enrolment)
    assert_refused(resumed_late, 422, "date")
    listed = api.client.get(f"/api/v1/events?participant_id={pid}").get_json()
    assert [e["date"] for e in listed["items"]] == ["2023-06-30", "2023-06-30"]


def test_an_open_enrolment_accepts_any_date_from_its_start(api: Api) -> None:
    pid = api.participant()
    enrolment = api.enrol(pid, "62-A6", api.structure()).get_json()["id"]
    api.event(pid, "support_break", "2023-02-01", reason="absent", enrolment_id=enrolment)
    early = api.event(pid, "childcare_start", "2023-01-31", status=None,
                      enrolment_id=enrolment, child_birth_month="2022-05")
    assert_refused(early, 422, "date")


def _posted(api: Api, pid: str, event_id: str, **fields: Any) -> Any:
    return api.event(pid, "housing_entry", "2023-03-01", status=None, id=event_id,
                     housing_type="social_rental", **fields)


def test_an_identical_start_is_a_409_naming_the_existing_event(api: Api) -> None:
    pid = api.participant()
    api.enrol(pid, "62-A6", api.structure())
    first = str(uuid.uuid4())
    assert _posted(api, pid, first).status_code == 201
    assert _posted(api, pid, first).status_code == 200  # a replay stays idempotent
    again = _posted(api, pid, str(uuid.uuid4()))
    body = assert_refused(again, 409, "type")
    assert body["existing_id"] == first
    assert body["reason"] == "identical_start"
    assert body["message"]
    # Not identical: other attributes, another date, or a point event.
    assert _posted(api, pid, str(uuid.uuid4()), via_programme=True).status_code == 201
    api.event(pid, "housing_entry", "2023-03-02", housing_type="social_rental")
    api.event(pid, "contact", "2023-03-01", mode="phone")
    api.event(pid, "contact", "2023-03-01", mode="phone")
    listed = api.client.get(f"/api/v1/events?participant_id={pid}").get_json()
    assert listed["page"]["total"] == 5


def test_a_voided_identical_start_does_not_block(api: Api) -> None:
    pid = api.participant()
    api.enrol(pid, "62-A6", api.structure())
    first = str(uuid.uuid4())
    _posted(api, pid, first)
    api.post(f"/api/v1/events/{first}/void", {"reason": "saisie en double"}, 200)
    assert _posted(api, pid, str(uuid.uuid4())).status_code == 201


# --- corrections --------------------------------------------------------------------------

def _correction(api: Api, old: str, pid: str, date: str, status: int | None = 201,
                new_id: str | None = None, reason: str = "date mal saisie",
                **attributes: Any) -> Any:
    body = {"id": new_id or str(uuid.uuid4()), "participant_id": pid, "type": "housing_entry",
            "date": date, "attributes": attributes, "reason": reason}
    return api.post(f"/api/v1/events/{old}/correction", body, status)


def test_a_correction_voids_the_old_event_and_records_the_new_one(api: Api) -> None:
    pid = api.participant()
    api.enrol(pid, "62-A6", api.structure())
    old = str(uuid.uuid4())
    _posted(api, pid, old)
    new_id = str(uuid.uuid4())
    new = _correction(api, old, pid, "2023-03-05", new_id=new_id,
                      housing_type="social_rental").get_json()
    assert new["id"] == new_id
    assert new["corrects"] == old
    assert new["date"] == "2023-03-05"
    assert new["voided"] is False
    read_old = api.client.get(f"/api/v1/events/{old}").get_json()
    assert read_old["voided"] is True
    assert read_old["void_reason"] == "date mal saisie"
    assert read_old["corrected_by"] == new_id
    retry = _correction(api, old, pid, "2023-03-05", status=200, new_id=new_id,
                        housing_type="social_rental").get_json()
    assert retry == api.client.get(f"/api/v1/events/{new_id}").get_json()
    changed = _correction(api, old, pid, "2023-03-06", status=409, new_id=new_id,
                          housing_type="social_rental")
    assert_refused(changed, 409, "id")
    again = _correction(api, old, pid, "2023-03-07", status=409, housing_type="family")
    assert_refused(again, 409, "id")  # already voided: corrected once
    intervals = api.client.get(f"/api/v1/participants/{pid}").get_json()["intervals"]
    housing = [i for i in intervals if i["family"] == "housing"]
    assert [i["start_date"] for i in housing] == ["2023-03-05"]


def test_a_refused_correction_leaves_the_old_event_intact(api: Api) -> None:
    pid = api.participant()
    api.enrol(pid, "62-A6", api.structure())
    old = str(uuid.uuid4())
    _posted(api, pid, old)
    future = _correction(api, old, pid, "2999-01-01", status=None,
                         housing_type="social_rental")
    assert_refused(future, 422, "date")
    no_reason = _correction(api, old, pid, "2023-03-05", status=None, reason=" ",
                            housing_type="social_rental")
    assert_refused(no_reason, 422, "reason")
    assert api.client.get(f"/api/v1/events/{old}").get_json()["voided"] is False
    listed = api.client.get(f"/api/v1/events?participant_id={pid}").get_json()
    assert listed["page"]["total"] == 1


def test_correcting_an_end_moves_it(api: Api) -> None:
    """The new end is checked as if the old one were already voided."""
    pid = api.participant()
    api.enrol(pid, "62-A6", api.structure())
    api.event(pid, "training_start", "2023-03-01", qualifying=True)
    end = str(uuid.uuid4())
    api.event(pid, "training_end", "2023-05-01", id=end)
    body = {"id": str(uuid.uuid4()), "participant_id": pid, "type": "training_end",
            "date": "2023-06-01", "attributes": {}, "reason": "fin décalée"}
    moved = api.post(f"/api/v1/events/{end}/correction", body, 201).get_json()
    assert moved["closed"] is not None
    assert moved["corrects"] == end
