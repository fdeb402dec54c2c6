"""The audit log is append-only in the database and its chain exposes any tampering."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor, Role
from cohort.models import AuditEntry

ADMIN = Actor(role=Role.ADMIN, user_id=7, structure_id=3)
T0 = dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC)


def _fill(session: Session, n: int = 5) -> list[AuditEntry]:
    return [
        audit.append(session, ADMIN, "participant.identity_read", now=T0 + dt.timedelta(days=i),
                     target_type="participant", target_id=f"p{i}",
                     fields=["last_name", "birth_date"], purpose="appel de suivi")
        for i in range(n)
    ]


def _drop_guards(session: Session) -> None:
    """What a database superuser could do: remove the append-only triggers."""
    if session.bind.dialect.name == "sqlite":  # type: ignore[union-attr]
        session.execute(sa.text("DROP TRIGGER audit_entry_no_update"))
        session.execute(sa.text("DROP TRIGGER audit_entry_no_delete"))
    else:
        session.execute(sa.text("DROP TRIGGER audit_entry_append_only ON audit_entry"))


def test_chain_verifies_and_names_no_problem(session: Session) -> None:
    entries = _fill(session)
    assert audit.verify(session) == []
    assert entries[1].prev_hash == entries[0].hash
    assert "appel" not in entries[0].hash


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entry SET purpose = 'rien' WHERE id = :id",
    "DELETE FROM audit_entry WHERE id = :id",
])
def test_database_refuses_update_and_delete(session: Session, statement: str) -> None:
    entry = _fill(session, 2)[0]
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.text(statement), {"id": entry.id})


def test_altered_entry_is_named(session: Session) -> None:
    entries = _fill(session)
    _drop_guards(session)
    session.execute(sa.text("UPDATE audit_entry SET purpose = 'autre motif' WHERE id = :id"),
                    {"id": entries[2].id})
    session.expire_all()
    problems = audit.verify(session)
    assert [p.entry_id for p in problems] == [entries[2].id]
    assert "altered" in problems[0].reason


def test_deleted_entry_is_named(session: Session) -> None:
    ids = [e.id for e in _fill(session)]
    _drop_guards(session)
    session.execute(sa.text("DELETE FROM audit_entry WHERE id = :id"), {"id": ids[1]})
    session.expire_all()
    problems = audit.verify(session)
    assert problems
    assert problems[0].entry_id == ids[1]
    assert "missing" in problems[0].reason


def test_deleting_the_last_entry_is_detected(session: Session) -> None:
    last = _fill(session)[-1].id
    _drop_guards(session)
    session.execute(sa.text("DELETE FROM audit_entry WHERE id = :id"), {"id": last})
    session.expire_all()
    assert [p.entry_id for p in audit.verify(session)] == [last]


def test_retention_purge_keeps_a_verifiable_chain(session: Session) -> None:
    kept = _fill(session, 6)[4].id
    deleted = audit.purge(session, ADMIN, before=T0 + dt.timedelta(days=3),
                          now=T0 + dt.timedelta(days=400))
    assert deleted == 3
    remaining = session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars()
    assert list(remaining) == ["participant.identity_read"] * 3 + ["audit.purge"]
    assert audit.verify(session) == []
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.text("DELETE FROM audit_entry WHERE id = :id"),
                        {"id": kept})
