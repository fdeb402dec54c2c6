"""Notifications: the in-app inbox (`inbox`) and the same messages by e-mail (`mail`).

The two halves live in their own modules; this package re-exports their public names so
that the shells and services keep calling ``notify.<name>`` whichever half holds it.
"""

from cohort.services.notify.inbox import (
    add_once,
    alert_message,
    alert_notifications,
    alert_text,
    coordinators_of,
    inbox_query,
    mark_read,
    notification_view,
    notification_views,
    referents_of,
    shared_follow_notices,
)
from cohort.services.notify.mail import (
    Mailer,
    SmtpMailer,
    SmtpSettings,
    deliver,
    digest_text,
    digests,
    email_of,
    pending_ids,
    skip_pending,
)

__all__ = [
    "Mailer", "SmtpMailer", "SmtpSettings", "add_once", "alert_message", "alert_notifications",
    "alert_text", "coordinators_of", "deliver", "digest_text", "digests", "email_of",
    "inbox_query", "mark_read", "notification_view", "notification_views", "pending_ids",
    "referents_of", "shared_follow_notices", "skip_pending",
]
