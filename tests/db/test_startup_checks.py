"""The service refuses to start on keys that do not fit the database (naming the setting)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cohort import create_app
from cohort.actors import SYSTEM
from cohort.db import make_engine, make_sessionmaker, unit_of_work
from cohort.errors import ConfigError
from cohort.identity.keyring import (
    Purpose,
    add_version,
    generate_key_file,
    load_keyring,
    remove_version,
)
from cohort.services import keys, participants
from tests.builders import person


def _register_one(url: str, key_file: Path) -> None:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as s:
        participants.register(s, load_keyring(str(key_file), env={}), SYSTEM, person(),
                              today=dt.date(2024, 1, 1))
    engine.dispose()


def test_a_key_version_still_in_use_must_be_configured(fresh_database_url: str,
                                                       tmp_path: Path) -> None:
    key_file = tmp_path / "keys.toml"
    generate_key_file(key_file, demo=False)
    _register_one(fresh_database_url, key_file)
    add_version(key_file, Purpose.ENCRYPTION)
    remove_version(key_file, Purpose.ENCRYPTION, 1)  # retired too early, by hand
    ring = load_keyring(str(key_file), env={})
    assert 1 not in ring[Purpose.ENCRYPTION].keys
    with pytest.raises(ConfigError) as refused:
        create_app({"DATABASE_URL": fresh_database_url, "KEYS_FILE": str(key_file)})
    assert "KEYS_FILE.encryption: version 1 is used by stored rows" in refused.value.message


def test_demo_keys_refused_on_a_real_database(fresh_database_url: str, tmp_path: Path) -> None:
    real, demo = tmp_path / "real.toml", tmp_path / "demo.toml"
    generate_key_file(real, demo=False)
    generate_key_file(demo, demo=True)
    _register_one(fresh_database_url, real)
    with pytest.raises(ConfigError) as refused:
        create_app({"DATABASE_URL": fresh_database_url, "KEYS_FILE": str(demo)})
    assert "demo keys refused" in refused.value.message
    engine = make_engine(fresh_database_url)
    with unit_of_work(make_sessionmaker(engine)) as s:
        keys.mark_demo(s)
    engine.dispose()
    app = create_app({"DATABASE_URL": fresh_database_url, "KEYS_FILE": str(demo)})
    app.extensions["cohort.engine"].dispose()
