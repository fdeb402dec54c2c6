"""Demo data: realistic synthetic pathways for the six Pas-de-Calais actions, up to today.

Imported only by the ``cohort demo`` commands (and tests, docs and benches), never by the
service itself. A pure plan is drawn first (``planner``: people and pathways in
``people``, ``pieces``, ``youth``, ``adults``), then written through the real services
(``load``), with the six-month checks recorded and swept (``followups``); ``accounts``
adds one demo user per role. Names are fake on purpose: common first and last names
combined at random, with random birth dates.
"""

from cohort.demo.items import (
    CheckResult,
    DatabaseNotEmpty,
    DemoError,
    DemoPlan,
    DemoSummary,
    EndEnrolment,
    Enrol,
    Record,
    Register,
    Step,
    Void,
)
from cohort.demo.load import Showcase, ensure_empty, generate, showcase
from cohort.demo.planner import default_rules, plan
from cohort.demo.territory import ACTIONS, MAX_PARTICIPANTS, MIN_PARTICIPANTS, PROGRAMME_CODE

__all__ = [
    "ACTIONS", "MAX_PARTICIPANTS", "MIN_PARTICIPANTS", "PROGRAMME_CODE", "CheckResult",
    "DatabaseNotEmpty", "DemoError", "DemoPlan", "DemoSummary", "EndEnrolment", "Enrol",
    "Record", "Register", "Showcase", "Step", "Void", "default_rules", "ensure_empty",
    "generate", "plan", "showcase",
]
