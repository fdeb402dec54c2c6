"""Alembic environment: our metadata, batch mode on SQLite, no foreign-key pragma."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.types import TypeDecorator

import cohort.models  # noqa: F401  (registers every table on the metadata)
from cohort.db import Model, make_engine
from cohort.partitions import in_comparison

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)
target_metadata = Model.metadata


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url")
    if url:
        return str(url)
    from cohort.config import load_settings

    return str(load_settings()["DATABASE_URL"])


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Autogenerate writes an application TypeDecorator as the SQLAlchemy type it stores
    (``UUIDText`` → ``sa.String(length=36)``), so that new revisions import nothing from
    ``cohort`` (migrations/README.md)."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def _comparison_filters(dialect: str) -> dict[str, object]:
    """PostgreSQL's history partitions, and the keys migration 0023 had to widen or turn
    into triggers there, are not in the models (cohort/partitions.py)."""
    return {
        "include_name": lambda name, type_, _parents: in_comparison(name, type_, dialect),
        "include_object": lambda _obj, name, type_, _reflected, _to: in_comparison(
            name, type_, dialect),
    }


def _configure(dialect: str = "", **kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_item=render_item,
        **_comparison_filters(dialect),
        render_as_batch=True,  # SQLite ALTER via copy-and-move; plain ALTER on PostgreSQL
        compare_type=True,
        compare_server_default=True,
        **kwargs,
    )


if context.is_offline_mode():
    _configure(url=database_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection.dialect.name, connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    else:
        # Foreign keys off: batch mode drops and re-creates tables (stack-notes P1).
        engine = make_engine(database_url(), foreign_keys=False, poolclass=pool.NullPool)
        with engine.connect() as conn:
            _configure(conn.dialect.name, connection=conn)
            with context.begin_transaction():
                context.run_migrations()
