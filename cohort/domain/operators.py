"""Who may enrol where (domain.md §2 "Operators").

Each action declares, in the programme file, the kinds of structure that run it. A
structure may enrol people into an action when the action is of the structure's
département (or joint) and the structure's kind is among the action's operators. An
administrator may force anything else with a recorded justification, as for eligibility
(``cohort.domain.rules.enrolment_entry``).
"""

from __future__ import annotations

from collections.abc import Sequence

from cohort.domain.enums import Departement

# The Rejected field and code of a refusal, whichever shell asked.
FIELD = "action_id"
CODE = "not_operator"


def refusals(*, action_departement: str, operators: Sequence[str], structure_kind: str,
             structure_departement: str) -> list[str]:
    """Each rule the (action, structure) pair breaks, in English; empty when allowed."""
    reasons = []
    if action_departement not in (structure_departement, Departement.JOINT.value):
        reasons.append(f"is an action of another département ({action_departement}) "
                       "than the structure's")
    if structure_kind not in operators:
        reasons.append(f"is not run by structures of kind {structure_kind} "
                       f"(run by: {', '.join(operators) or 'none declared'})")
    return reasons


def may_enrol(*, action_departement: str, operators: Sequence[str], structure_kind: str,
              structure_departement: str) -> bool:
    return not refusals(action_departement=action_departement, operators=operators,
                        structure_kind=structure_kind,
                        structure_departement=structure_departement)
