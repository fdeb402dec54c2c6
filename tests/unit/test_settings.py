"""Settings: sources merge in order, and a bad value is refused naming the setting."""

from __future__ import annotations

import pytest

from cohort.config import load_settings
from cohort.errors import ConfigError

URL = {"DATABASE_URL": "sqlite:////tmp/cohort-settings-test.db"}


def test_environment_overrides_the_defaults_and_numbers_are_read_as_numbers() -> None:
    settings = load_settings(URL, env={"COHORT_REPORT_WORKERS": "1",
                                       "COHORT_DISCLOSURE_K": "7"})
    assert (settings["REPORT_WORKERS"], settings["DISCLOSURE_K"]) == (1, 7)
    assert load_settings(URL, env={})["REPORT_WORKERS"] == 2


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("REPORT_WORKERS", "0", "at least 1"),
    ("REPORT_WORKERS", "two", "whole number"),
    ("DISCLOSURE_K", "2", "at least 3"),
    ("PAGE_SIZE_MAX", "", "whole number"),
])
def test_a_bad_value_is_refused_naming_the_setting(name: str, value: str, reason: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(URL, env={f"COHORT_{name}": value})
    assert str(refused.value).startswith(f"{name}:")
    assert reason in str(refused.value)


def test_the_read_replica_is_optional_and_only_follows_a_postgresql_primary() -> None:
    assert load_settings(URL, env={})["READ_DATABASE_URL"] == ""
    primary = {"DATABASE_URL": "postgresql+psycopg://cohort@db/cohort"}
    replica = "postgresql+psycopg://cohort_read@replica/cohort"
    settings = load_settings(primary, env={"COHORT_READ_DATABASE_URL": replica})
    assert settings["READ_DATABASE_URL"] == replica
    with pytest.raises(ConfigError, match="^READ_DATABASE_URL: needs a PostgreSQL"):
        load_settings(URL, env={"COHORT_READ_DATABASE_URL": replica})
    with pytest.raises(ConfigError, match="^READ_DATABASE_URL: a read replica is a PostgreSQL"):
        load_settings(primary, env={"COHORT_READ_DATABASE_URL": "sqlite:////tmp/copy.db"})
