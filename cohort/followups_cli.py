"""``cohort followups``: the daily sweep and reminders (run by cron or a systemd timer).

`remind` sweeps first (missing checks scheduled, ASE youths' overdue checks alerted),
then writes each coordinator's digest and e-mails every pending message. Every step is
idempotent: a second run the same day creates and sends nothing new. Each e-mail is
committed as sent right after it leaves, so a failure mid-run resends nothing.
Services are imported inside the commands: `cohort --help` lists them without SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import sys
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

from cohort import clock
from cohort.cli_errors import fail
from cohort.errors import CohortError, ConfigError

if TYPE_CHECKING:
    from cohort.services import followups


@click.group("followups", cls=AppGroup)
def followups_group() -> None:
    """Six-month follow-up checks: sweep and reminders."""




def _today(value: dt.datetime | None) -> dt.date:
    today = clock.today()
    if value is None:
        return today
    if value.date() > today:
        fail(CohortError("--today is in the future"))
    return value.date()


TODAY_OPTION = click.option(
    "--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
    help="The day to run for (default: today in France); never in the future.")


def _sweep(today: dt.date) -> followups.Swept:
    from cohort.db import unit_of_work
    from cohort.services import followups

    with unit_of_work(current_app.extensions["cohort.sessionmaker"]) as session:
        return followups.sweep(session, today=today, now=clock.now())


@followups_group.command("sweep")
@TODAY_OPTION
def sweep_command(today: dt.datetime | None) -> None:
    """Schedule missing checks and alert on ASE youths' overdue checks."""
    swept = _sweep(_today(today))
    click.echo(f"checks scheduled: {swept.scheduled}; alerts raised: {swept.alerts}")


@followups_group.command("remind")
@TODAY_OPTION
def remind_command(today: dt.datetime | None) -> None:
    """Sweep, write the day's digests, then e-mail every pending message."""
    from cohort.db import unit_of_work
    from cohort.services import notify

    day = _today(today)
    sessions = current_app.extensions["cohort.sessionmaker"]
    try:
        smtp = notify.SmtpSettings.from_config(current_app.config)
    except ConfigError as exc:
        fail(exc)
        return
    swept = _sweep(day)
    with unit_of_work(sessions) as session:
        digests = len(notify.digests(session, today=day, now=clock.now()))
    click.echo(f"checks scheduled: {swept.scheduled}; alerts raised: {swept.alerts}; "
               f"digests written: {digests}")
    if smtp is None:
        with unit_of_work(sessions) as session:
            kept = notify.skip_pending(session)
        click.echo(f"SMTP_HOST is not set: {kept} messages kept in the inbox only")
        return
    with unit_of_work(sessions) as session:
        pending = notify.pending_ids(session)
    if not pending:
        click.echo("e-mails sent: 0")
        return
    sent = 0
    try:
        with notify.SmtpMailer(smtp) as mailer:
            for notification_id in pending:
                with unit_of_work(sessions) as session:
                    sent += notify.deliver(session, notification_id, mailer, sender=smtp.sender,
                                           now=clock.now())
    except (OSError, smtplib.SMTPException) as exc:
        click.echo(f"e-mails sent: {sent}", err=True)
        click.echo(f"error: SMTP delivery failed ({type(exc).__name__}); "
                   f"{len(pending) - sent} messages stay pending for the next run", err=True)
        sys.exit(1)
    click.echo(f"e-mails sent: {sent}")
