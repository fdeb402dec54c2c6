"""The status definitions of domain.md §5 as data: the one place they are written.

The Python reading of a person's status (``domain.followup.status_at``), the SQL forms of the
indicators (``indicators.status``), the event-attribute rules, the programme-file defaults
and the demo generator all read these values; none of them keeps a copy.
"""

from __future__ import annotations

from cohort.domain.enums import Contract, Family, HousingType

PATHWAY_FAMILIES: tuple[Family, ...] = (
    Family.EMPLOYMENT, Family.TRAINING, Family.SCHOOL, Family.SCHEME,
)
"""Families whose open interval puts a person "in a pathway" (parcours professionnel et/ou
scolaire)."""

OPEN_ENDED_CONTRACTS: tuple[str, ...] = (Contract.CDI.value, Contract.BUSINESS_CREATION.value)
"""Contracts that are durable whatever their length, and need no ``planned_months``."""

FIXED_TERM_CONTRACTS: tuple[str, ...] = tuple(
    c.value for c in Contract if c.value not in OPEN_ENDED_CONTRACTS
)
"""Contracts that are durable only when planned for ``DURABLE_MIN_MONTHS`` or more."""

DURABLE_MIN_MONTHS = 6

DEFAULT_STABLE_HOUSING: tuple[str, ...] = (
    HousingType.SOCIAL_RENTAL.value, HousingType.PRIVATE_RENTAL.value,
    HousingType.SLIDING_LEASE.value,
)
"""Housing types that count as stable unless the programme file sets its own list."""

STATUS_NAMES: tuple[str, ...] = (
    "in_pathway", "durable_employment", "stably_housed", "has_resources",
)
"""The four statuses, in the order indicators and cohort tables show them."""
