"""Versioned keys per purpose, loaded from outside the database.

Sources, in order: a TOML key file (``KEYS_FILE``) and ``COHORT_KEY_<PURPOSE>_V<n>`` /
``COHORT_KEY_<PURPOSE>_CURRENT`` environment variables (which win). Each purpose has its
own keys (``pseudonym``, ``nir``, ``encryption``, ``similarity``); a key is 32+ random
bytes in base64 (exactly 32 for ``encryption``, an AES-256 key). ``similarity`` is
optional: a key file written before it existed still starts the service, without
duplicate detection (``Keyring.has``).
Every failure names the setting and never echoes a value.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cohort.errors import ConfigError

MIN_KEY_BYTES = 32
AES_KEY_BYTES = 32  # AES-256-GCM (vault.py) takes exactly this many bytes
_VERSION = re.compile(r"[0-9]+")


class Purpose(StrEnum):
    PSEUDONYM = "pseudonym"
    NIR = "nir"
    ENCRYPTION = "encryption"
    SIMILARITY = "similarity"


# Purposes a key file may lack: the service runs without what they serve.
OPTIONAL = frozenset({Purpose.SIMILARITY})


@dataclass(frozen=True)
class PurposeKeys:
    purpose: Purpose
    current: int
    keys: Mapping[int, bytes]

    def key(self, version: int) -> bytes:
        try:
            return self.keys[version]
        except KeyError:
            raise ConfigError(
                f"key {self.purpose} version {version} is not configured"
            ) from None

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current]


@dataclass(frozen=True)
class Keyring:
    purposes: Mapping[Purpose, PurposeKeys]
    demo: bool = False
    session_secret: bytes | None = None  # signs web-session cookies (optional here)

    def __getitem__(self, purpose: Purpose) -> PurposeKeys:
        try:
            return self.purposes[purpose]
        except KeyError:
            raise ConfigError(f"KEYS_FILE.{purpose}: not configured") from None

    def has(self, purpose: Purpose) -> bool:
        """Whether the purpose has keys (only OPTIONAL purposes may lack them)."""
        return purpose in self.purposes


def _decode(setting: str, value: Any, purpose: Purpose) -> bytes:
    if not isinstance(value, str):
        raise ConfigError(f"{setting}: a key must be a base64 string")
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{setting}: not valid base64") from None
    if len(raw) < MIN_KEY_BYTES:
        raise ConfigError(f"{setting}: too short (at least {MIN_KEY_BYTES} bytes are required)")
    if purpose is Purpose.ENCRYPTION and len(raw) != AES_KEY_BYTES:
        raise ConfigError(f"{setting}: an encryption key must be exactly {AES_KEY_BYTES} bytes")
    return raw


def _purpose_from(setting: str, table: Mapping[str, Any], env: Mapping[str, str],
                  purpose: Purpose) -> PurposeKeys:
    keys: dict[int, bytes] = {}
    for name, value in table.items():
        if name == "current":
            continue
        if not _VERSION.fullmatch(name):
            raise ConfigError(f"{setting}.{purpose}.{name}: key versions are whole numbers")
        keys[int(name)] = _decode(f"{setting}.{purpose}.{name}", value, purpose)
    prefix = f"COHORT_KEY_{purpose.upper()}_V"
    for name, value in env.items():
        if name.startswith(prefix):
            if not _VERSION.fullmatch(name[len(prefix):]):
                raise ConfigError(f"{name}: key versions are whole numbers")
            keys[int(name[len(prefix):])] = _decode(name, value, purpose)
    env_current = f"COHORT_KEY_{purpose.upper()}_CURRENT"
    if env_current in env:
        current_setting, current = env_current, env[env_current]
    else:
        current_setting, current = f"{setting}.{purpose}.current", table.get("current")
    if current is None:
        if not keys:
            raise ConfigError(
                f"{setting}.{purpose} / COHORT_KEY_{purpose.upper()}_V<n>: missing"
                " (no key configured for this purpose)"
            )
        raise ConfigError(
            f"{setting}.{purpose}.current / {env_current}: missing (which version is current?)"
        )
    # A whole number only: int() would truncate 1.5 and accept true/false.
    if isinstance(current, str) and _VERSION.fullmatch(current.strip()):
        current = int(current)
    elif not isinstance(current, int) or isinstance(current, bool):
        raise ConfigError(f"{current_setting}: must be a whole number")
    if current not in keys:
        raise ConfigError(f"{current_setting}: version {current} has no key")
    return PurposeKeys(purpose=purpose, current=current, keys=keys)


def load_keyring(keys_file: str | None, env: Mapping[str, str] | None = None) -> Keyring:
    """Load and validate every purpose's keys; raise ConfigError naming the setting."""
    env = os.environ if env is None else env
    table: dict[str, Any] = {}
    setting = "KEYS_FILE"
    if keys_file:
        path = Path(keys_file)
        if not path.is_file():
            raise ConfigError("KEYS_FILE: no such file")
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            raise ConfigError("KEYS_FILE: not a valid TOML file") from None
    elif not any(k.startswith("COHORT_KEY_") for k in env):
        raise ConfigError("KEYS_FILE: missing (set COHORT_KEYS_FILE or COHORT_KEY_* variables)")
    purposes = {}
    for purpose in Purpose:
        sub = table.get(str(purpose), {})
        if not isinstance(sub, dict):
            raise ConfigError(f"{setting}.{purpose}: must be a table of versioned keys")
        if purpose in OPTIONAL and not sub and not any(
                name.startswith(f"COHORT_KEY_{purpose.upper()}_") for name in env):
            continue
        purposes[purpose] = _purpose_from(setting, sub, env, purpose)
    seen: dict[bytes, Purpose] = {}
    for purpose, pk in purposes.items():
        for key in pk.keys.values():
            other = seen.setdefault(key, purpose)
            if other is not purpose:
                raise ConfigError(
                    f"{setting}: the same key serves two purposes ({other} and {purpose})"
                )
    demo = table.get("demo", False)
    if not isinstance(demo, bool):
        raise ConfigError(f"{setting}.demo: must be true or false")
    return Keyring(purposes=purposes, demo=demo, session_secret=_session_secret(table, env))


def _session_secret(table: Mapping[str, Any], env: Mapping[str, str]) -> bytes | None:
    """The web-session signing secret: `[session] secret` or COHORT_KEY_SESSION."""
    if "COHORT_KEY_SESSION" in env:
        return _decode("COHORT_KEY_SESSION", env["COHORT_KEY_SESSION"], Purpose.PSEUDONYM)
    section = table.get("session", {})
    if not isinstance(section, dict):
        raise ConfigError("KEYS_FILE.session: must be a table")
    if "secret" not in section:
        return None
    return _decode("KEYS_FILE.session.secret", section["secret"], Purpose.PSEUDONYM)


def generate_key_file(path: Path, *, demo: bool) -> None:
    """Write a fresh key file (mode 0600): one random 32-byte key per purpose."""
    lines = []
    if demo:
        lines += [
            "# DEMO KEYS - generated for the demo database only; never use with real data.",
            "demo = true",
        ]
    else:
        lines.append("# cohort keys: keep outside the repository and back up separately.")
    for purpose in Purpose:
        key = base64.b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode()
        lines += ["", f"[{purpose}]", "current = 1", f'1 = "{key}"']
    session_secret = base64.b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode()
    lines += ["", "[session]", f'secret = "{session_secret}"']
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def _write_key_table(path: Path, table: Mapping[str, Any]) -> None:
    """Rewrite a key file atomically (mode 0600) from its parsed table."""
    lines = []
    if table.get("demo"):
        lines += ["# DEMO KEYS - generated for the demo database only; never use with real data.",
                  "demo = true"]
    else:
        lines.append("# cohort keys: keep outside the repository and back up separately.")
    for name, section in table.items():
        if not isinstance(section, dict):
            continue
        lines += ["", f"[{name}]"]
        for key, value in section.items():
            lines.append(f"{key} = {value}" if isinstance(value, int) else f'{key} = "{value}"')
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def add_version(path: Path, purpose: Purpose) -> int:
    """Add a fresh key version for a purpose to a key file and make it current."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    section = table.setdefault(str(purpose), {})
    versions = [int(k) for k in section if k.isdigit()]
    version = max(versions, default=0) + 1
    section[str(version)] = base64.b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode()
    section["current"] = version
    _write_key_table(path, table)
    return version


def remove_version(path: Path, purpose: Purpose, version: int) -> None:
    """Remove a retired version from a key file (callers check that no row uses it)."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    section = table.get(str(purpose), {})
    if str(version) not in section:
        raise ConfigError(f"KEYS_FILE.{purpose}.{version}: no such version")
    if section.get("current") == version:
        raise ConfigError(f"KEYS_FILE.{purpose}.{version}: the current version stays")
    del section[str(version)]
    _write_key_table(path, table)
