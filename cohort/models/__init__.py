"""Typed ORM models, one module per aggregate; importing this registers every table."""

from cohort.models.accounts import (
    ApiToken,
    AuditEntry,
    AuditHead,
    ExceptionalAccess,
    RecoveryCode,
    RegistrationGrant,
    User,
    WebSession,
)
from cohort.models.budget import BudgetActual
from cohort.models.erasure_requests import ErasureRequest
from cohort.models.events import Event, EventInterval, EventVoid
from cohort.models.followup import Alert, FollowUpCheck, Notification
from cohort.models.link_requests import DuplicateDismissal, LinkRequest
from cohort.models.meta import InstanceMeta
from cohort.models.people import (
    Enrolment,
    Erasure,
    Participant,
    ParticipantFileNumber,
    ParticipantLink,
    ParticipantSimilarityKey,
)
from cohort.models.programme import Action, Operation, Programme, Structure
from cohort.models.published import DataChange, PublishedAggregate

__all__ = [
    "Action", "ApiToken", "AuditEntry", "AuditHead", "DuplicateDismissal", "Enrolment",
    "Erasure", "Event", "EventInterval", "EventVoid", "ExceptionalAccess", "InstanceMeta",
    "LinkRequest", "Operation",
    "DataChange", "Participant", "ParticipantFileNumber", "PublishedAggregate",
    "ParticipantLink", "ParticipantSimilarityKey", "Programme",
    "RecoveryCode", "RegistrationGrant", "Structure", "User", "WebSession",
    "Alert", "ErasureRequest", "BudgetActual", "FollowUpCheck", "Notification",
]
