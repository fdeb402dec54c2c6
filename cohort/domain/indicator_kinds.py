"""The indicator kinds a programme file may name, and the counts a follow-up indicator may
pick: plain data shared by the programme loader (write side, which validates the files)
and the indicator catalogue (read side, which has one query builder per kind), so that
neither imports the other. tests/unit/test_layers.py checks the catalogue builds them all."""

from __future__ import annotations

KINDS: frozenset[str] = frozenset({
    "accompanied",
    "accompanied_or_operation_event",
    "operations_active",
    "planned_hours",
    "realised_hours",
    "events_in_enrolment",
    "events_on_enrolments",
    "positive_exits",
    "people_with_interval",
    "capacity_units",
    "housed_via_programme",
    "housing_exits",
    "turned_18",
    "link_person_by_deadline",
    "status_on_date",
    "followup_checks",
})

FOLLOWUP_COUNTS = ("due", "done", "overdue", "reached", "not_reached", "refused", "in_pathway",
                   "durable_employment", "stably_housed", "has_resources")
