"""Settings: defaults file → instance file → COHORT_* environment → test_config.

Validated at start-up; a bad value stops the service with a message naming the setting.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import limits

from cohort.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(os.environ.get("COHORT_CONFIG_DIR", PROJECT_ROOT / "config"))

_INT_SETTINGS = (
    "MAX_CONTENT_LENGTH", "PAGE_SIZE_DEFAULT", "PAGE_SIZE_MAX", "DISCLOSURE_K",
    "DISCLOSURE_ROUNDING_BASE", "FOLLOWUP_MONTHS", "FOLLOWUP_WINDOW_BEFORE_DAYS",
    "FOLLOWUP_WINDOW_AFTER_DAYS", "AUDIT_RETENTION_MONTHS", "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS", "RETENTION_YEARS", "REPORT_WORKERS", "AGGREGATE_TIMEOUT_SECONDS",
)


RATE_LIMIT_SETTINGS = ("API_RATE_LIMIT_PER_TOKEN", "API_RATE_LIMIT_PER_STRUCTURE",
                       "LOOKUP_RATE_LIMIT", "IDENTITY_RATE_LIMIT", "LOGIN_RATE_LIMIT")


def _read_toml(path: Path, setting: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{setting}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{setting}: invalid TOML ({exc})") from None


def load_settings(test_config: Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Merge the settings sources in order and validate them."""
    env = os.environ if env is None else env
    settings = _read_toml(CONFIG_DIR / "default.toml", "config/default.toml")
    if instance := env.get("COHORT_CONFIG_FILE"):
        settings.update(_read_toml(Path(instance), "COHORT_CONFIG_FILE"))
    for name, value in env.items():
        if name.startswith("COHORT_") and not name.startswith("COHORT_KEY_"):
            settings[name.removeprefix("COHORT_")] = value
    if test_config:
        settings.update(test_config)
    for name in _INT_SETTINGS:
        try:
            settings[name] = int(settings[name])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{name}: must be a whole number") from None
    for name in ("SESSION_COOKIE_SECURE", "TESTING"):
        value = settings.get(name)
        if isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ConfigError(f"{name}: must be true or false")
            settings[name] = value.lower() in ("true", "1")
    for name in ("SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "AGGREGATE_TIMEOUT_SECONDS"):
        if settings[name] < 1:
            raise ConfigError(f"{name}: must be at least 1")
    if settings["REPORT_WORKERS"] < 1:
        raise ConfigError("REPORT_WORKERS: must be at least 1")
    for name in RATE_LIMIT_SETTINGS:
        try:
            limits.parse(str(settings[name]))
        except (KeyError, ValueError):
            raise ConfigError(f'{name}: not a rate limit (e.g. "600 per minute")') from None
    if settings["DISCLOSURE_K"] < 3:
        raise ConfigError("DISCLOSURE_K: must be at least 3 (domain.md §7)")
    url = str(settings.get("DATABASE_URL") or "")
    if not url:
        raise ConfigError("DATABASE_URL: missing")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            url = f"sqlite:///{(Path.cwd() / relative).resolve()}"
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    settings["DATABASE_URL"] = url
    read_url = str(settings.get("READ_DATABASE_URL") or "")
    if read_url and not read_url.startswith("postgresql"):
        raise ConfigError("READ_DATABASE_URL: a read replica is a PostgreSQL URL "
                          "(leave it empty on SQLite)")
    if read_url and not url.startswith("postgresql"):
        raise ConfigError("READ_DATABASE_URL: needs a PostgreSQL DATABASE_URL (the replica "
                          "follows a PostgreSQL primary)")
    settings["READ_DATABASE_URL"] = read_url
    ledger = str(settings.get("ERASURE_LEDGER_FILE") or "")
    settings["ERASURE_LEDGER_FILE"] = str((Path.cwd() / ledger).resolve()) if ledger else ""
    return settings
