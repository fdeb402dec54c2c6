"""Participants (pseudonymous, identity sealed) and their enrolments in actions."""

from __future__ import annotations

import datetime as dt
import uuid as uuid_mod

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cohort.db import Model, UUIDText, created_at, intpk, public_uuid
from cohort.domain.enums import ExitReason, Intensity, Sex
from cohort.models._checks import one_of
from cohort.models.programme import Action, Structure


class Participant(Model):
    """A person (a household for 62-A5). No identity in clear: pseudonym + sealed record."""

    __tablename__ = "participant"
    __table_args__ = (
        one_of("sex", Sex),
        # Erasure destroys the three together; a live row has its pseudonym and its seal.
        sa.CheckConstraint(
            "(erased_at IS NULL AND pseudonym IS NOT NULL AND identity_sealed IS NOT NULL)"
            " OR (erased_at IS NOT NULL AND pseudonym IS NULL AND identity_sealed IS NULL"
            " AND nir_hash IS NULL)",
            name="erasure_consistent",
        ),
        sa.CheckConstraint("length(birth_month) = 7", name="birth_month_format"),
        # The caseload's "registered by the structure" half (migration 0015).
        sa.Index("ix_participant_registered_by", "registered_by_structure_id"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    # HMAC-SHA-256 (hex) of the normalised identity under pseudonym key `pseudonym_version`.
    pseudonym: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    pseudonym_version: Mapped[int | None]
    nir_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    nir_version: Mapped[int | None]
    identity_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    identity_version: Mapped[int | None]
    birth_month: Mapped[str] = mapped_column(sa.String(7))
    sex: Mapped[str] = mapped_column(sa.String(1))
    home_departement: Mapped[str | None] = mapped_column(sa.String(3))
    home_epci: Mapped[str | None] = mapped_column(sa.String(9))
    ase_past: Mapped[bool]
    registered_by_structure_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("structure.id", ondelete="RESTRICT")
    )
    created_at: Mapped[created_at]
    erased_at: Mapped[dt.datetime | None]
    # Set while an administrator's link says this row is the same person as another:
    # indicators count COALESCE(merged_into_id, id) once. Unlinking clears it.
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT"), index=True
    )

    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="participant", order_by="Enrolment.start_date"
    )


class ParticipantSimilarityKey(Model):
    """One keyed similarity bucket of a participant (cohort/identity/similarity.py).

    Derived from the identity: rebuilt on rotation, destroyed on erasure with it. The
    digest is a truncated HMAC (a few bits), so equal digests are often coincidences.
    The participant's birth month (clear already) is repeated here so that a look-up reads
    one month's bucket, not the whole table's: every key holds the birth date.
    """

    __tablename__ = "participant_similarity_key"
    __table_args__ = (
        sa.Index("ix_participant_similarity_key_lookup", "birth_month", "kind", "digest"),
        # The duplicates report's day/month swap: a bucket within the later months of a year.
        sa.Index("ix_participant_similarity_key_bucket", "kind", "digest", "birth_month"),
        sa.CheckConstraint("digest >= 0", name="digest_positive"),
        sa.CheckConstraint("length(birth_month) = 7", name="birth_month_format"),
    )

    # Derived data, not history: it goes with its participant.
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    key_version: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[int] = mapped_column(primary_key=True)
    birth_month: Mapped[str] = mapped_column(sa.String(7))


class Enrolment(Model):
    """A participant followed in an action by a structure, with what was true at entry."""

    __tablename__ = "enrolment"
    __table_args__ = (
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        sa.CheckConstraint(
            "(end_date IS NULL AND exit_reason IS NULL)"
            " OR (end_date IS NOT NULL AND exit_reason IS NOT NULL)",
            name="exit_reason_with_end",
        ),
        one_of("exit_reason", ExitReason),
        one_of("intensity", Intensity),
        sa.CheckConstraint("age_at_entry BETWEEN 0 AND 130", name="age_plausible"),
        sa.CheckConstraint(
            "(under_26 AND age_at_entry < 26) OR (NOT under_26 AND age_at_entry >= 26)",
            name="under_26_matches_age",
        ),
        sa.CheckConstraint(
            "NOT forced OR force_justification IS NOT NULL", name="forced_is_justified"
        ),
        # A cancellation has its date and reason together (and its author only then).
        sa.CheckConstraint(
            "(cancelled_at IS NULL AND cancel_reason IS NULL AND cancelled_by_user_id IS NULL)"
            " OR (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL)",
            name="cancellation_complete",
        ),
        # One open enrolment per participant and action; a cancelled one no longer counts.
        sa.Index(
            "uq_enrolment_open", "participant_id", "action_id", unique=True,
            sqlite_where=sa.text("end_date IS NULL AND cancelled_at IS NULL"),
            postgresql_where=sa.text("end_date IS NULL AND cancelled_at IS NULL"),
        ),
        # The few cancelled enrolments, which every indicator statement leaves out.
        sa.Index("ix_enrolment_cancelled", "cancelled_at",
                 sqlite_where=sa.text("cancelled_at IS NOT NULL"),
                 postgresql_where=sa.text("cancelled_at IS NOT NULL")),
        sa.Index("ix_enrolment_action_dates", "action_id", "start_date", "end_date"),
        sa.Index("ix_enrolment_participant", "participant_id", "action_id", "start_date"),
        sa.Index("ix_enrolment_structure", "structure_id", "participant_id"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT")
    )
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="RESTRICT"))
    structure_id: Mapped[int] = mapped_column(sa.ForeignKey("structure.id", ondelete="RESTRICT"))
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date | None]
    exit_reason: Mapped[str | None] = mapped_column(sa.String(30))
    rsa_at_entry: Mapped[bool]
    age_at_entry: Mapped[int]
    under_26: Mapped[bool]
    ase_past: Mapped[bool]
    parent_child_0_3: Mapped[bool] = mapped_column(default=False)
    intensity: Mapped[str | None] = mapped_column(sa.String(12))
    forced: Mapped[bool] = mapped_column(default=False)
    force_justification: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[created_at]
    end_recorded_at: Mapped[dt.datetime | None]
    # Entered by mistake (domain.md §4): kept in the history, counted nowhere.
    cancelled_at: Mapped[dt.datetime | None]
    cancelled_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(default=1)

    participant: Mapped[Participant] = relationship(back_populates="enrolments")
    action: Mapped[Action] = relationship()
    structure: Mapped[Structure] = relationship()

    __mapper_args__ = {"version_id_col": version}


class ParticipantFileNumber(Model):
    """A structure's own file number for a participant, as a keyed hash (never in clear):
    the imports name people by it (issue 22). One number names one person per structure."""

    __tablename__ = "participant_file_number"
    __table_args__ = (
        sa.UniqueConstraint("structure_id", "digest"),
        sa.Index("ix_participant_file_number_participant", "participant_id"),
    )

    id: Mapped[intpk]
    structure_id: Mapped[int] = mapped_column(sa.ForeignKey("structure.id", ondelete="RESTRICT"))
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(sa.String(64))
    key_version: Mapped[int]
    created_at: Mapped[created_at]


class ParticipantLink(Model):
    """An administrator's decision that two participants are one person, and its undoing.

    Nothing is moved: enrolments and events keep their participant; the absorbed row points
    at the survivor while the link is active, so an unlink restores both sides exactly.
    """

    __tablename__ = "participant_link"
    __table_args__ = (
        sa.CheckConstraint("absorbed_id <> survivor_id", name="two_people"),
        sa.Index("uq_participant_link_active", "absorbed_id", unique=True,
                 sqlite_where=sa.text("unlinked_at IS NULL"),
                 postgresql_where=sa.text("unlinked_at IS NULL")),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    absorbed_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id", ondelete="RESTRICT"))
    survivor_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(sa.Text)
    linked_at: Mapped[dt.datetime]
    linked_by_user_id: Mapped[int | None]
    unlinked_at: Mapped[dt.datetime | None]
    unlinked_by_user_id: Mapped[int | None]
    unlink_reason: Mapped[str | None] = mapped_column(sa.Text)


class Erasure(Model):
    """The erasure ledger, without identity: which participant row lost its identity, when.

    The same entries are appended to a ledger file outside the database, so a restored
    backup can be erased again (``cohort erasures replay``).
    """

    __tablename__ = "erasure"

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    participant_uuid: Mapped[uuid_mod.UUID] = mapped_column(UUIDText())
    mode: Mapped[str] = mapped_column(sa.String(20))  # keep_pathway | delete_pathway
    cause: Mapped[str] = mapped_column(sa.String(20))  # request | retention
    erased_at: Mapped[dt.datetime]
    requested_by_user_id: Mapped[int | None]
