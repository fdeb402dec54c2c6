"""Typed ORM models, one module per aggregate; importing this registers every table."""

from cohort.models.accounts import (
    ApiToken,
    AuditEntry,
    AuditHead,
    ExceptionalAccess,
    RegistrationGrant,
    User,
)
from cohort.models.events import Event, EventInterval, EventVoid
from cohort.models.meta import InstanceMeta
from cohort.models.people import Enrolment, Participant
from cohort.models.programme import Action, Operation, Programme, Structure

__all__ = [
    "ApiToken", "AuditEntry", "AuditHead", "ExceptionalAccess", "RegistrationGrant", "User",
    "Action", "Enrolment", "Event", "EventInterval", "EventVoid", "InstanceMeta", "Operation",
    "Participant", "Programme", "Structure",
]
