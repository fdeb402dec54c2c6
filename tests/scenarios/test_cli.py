"""The `cohort` command as an operator uses it: clear messages, non-zero exits, idempotence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cohort.config import PROJECT_ROOT

PROGRAMME = PROJECT_ROOT / "config" / "programmes" / "erbm-2023.toml"


def cohort(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
    return subprocess.run([sys.executable, "-m", "cohort.cli", *args], env=clean | env,
                          capture_output=True, text=True, timeout=120)


def test_programme_load_is_idempotent_and_errors_name_key_and_line(
        fresh_database_url: str, keys_file: Path, tmp_path: Path) -> None:
    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(keys_file)}
    again = cohort("programme", "load", str(PROGRAMME), env=env)
    assert again.returncode == 0, again.stderr
    assert "programme erbm-2023 unchanged" in again.stdout
    assert "unchanged 17" in again.stdout

    broken = tmp_path / "broken.toml"
    text = PROGRAMME.read_text(encoding="utf-8")
    marker = "state = 42_000"
    assert marker in text
    line = text[: text.index(marker)].count("\n") + 1
    broken.write_text(text.replace(marker, 'state = "quarante-deux mille"'), encoding="utf-8")
    failed = cohort("programme", "load", str(broken), env=env)
    assert failed.returncode == 2
    assert "budget.state" in failed.stderr
    assert f"line {line}" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_start_up_refuses_bad_keys_naming_the_setting(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/x.db"
    missing = cohort("db", "upgrade", env={"COHORT_DATABASE_URL": db})
    assert missing.returncode == 2
    assert "KEYS_FILE" in missing.stderr
    secret = "c2hvcnQ="  # base64 of a 5-byte key
    short = cohort("db", "upgrade", env={
        "COHORT_DATABASE_URL": db, "COHORT_KEY_PSEUDONYM_V1": secret,
        "COHORT_KEY_PSEUDONYM_CURRENT": "1"})
    assert short.returncode == 2
    assert "COHORT_KEY_PSEUDONYM_V1" in short.stderr
    assert secret not in short.stderr
    assert "Traceback" not in short.stderr


def test_keys_new_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    first = cohort("keys", "new", "--demo", str(path), env={})
    assert first.returncode == 0, first.stderr
    content = path.read_bytes()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    second = cohort("keys", "new", str(path), env={})
    assert second.returncode == 2
    assert path.read_bytes() == content


def test_users_tokens_and_audit_verify(fresh_database_url: str, keys_file: Path) -> None:
    import sqlalchemy as sa

    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(keys_file)}
    structure = cohort("structures", "create", "--name", "Mission Locale de l'Artois",
                       "--kind", "mission_locale", "--departement", "62", env=env)
    assert structure.returncode == 0, structure.stderr
    user = cohort("users", "create", "--email", "c.dubois@example.org", "--name", "C. Dubois",
                  "--structure", structure.stdout.strip(), "--role", "coordinator",
                  "--password", "", env=env)
    assert user.returncode == 0, user.stderr
    token = cohort("tokens", "create", "c.dubois@example.org", "--days", "30", env=env)
    assert token.returncode == 0, token.stderr
    secret = token.stdout.split("(shown once): ")[1].strip()
    assert secret.startswith("cht_")
    unknown = cohort("tokens", "create", "nobody@example.org", env=env)
    assert unknown.returncode == 2
    assert "email: not found" in unknown.stderr

    assert cohort("audit", "verify", env=env).returncode == 0
    analysed = cohort("db", "analyze", env=env)
    assert (analysed.returncode, analysed.stdout.strip()) == (0, "statistics refreshed")
    engine = sa.create_engine(fresh_database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(sa.text("DROP TRIGGER audit_entry_no_update"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        conn.execute(sa.text("UPDATE audit_entry SET details = '{}' WHERE id = 2"))
    engine.dispose()
    tampered = cohort("audit", "verify", env=env)
    assert tampered.returncode == 1
    assert "entry 2: content altered" in tampered.stderr
    assert secret not in tampered.stderr + tampered.stdout


def test_the_operators_erasure_needs_a_reason(fresh_database_url: str, keys_file: Path,
                                              tmp_path: Path) -> None:
    """`cohort erase` on the server stays single-step, but says why (in the audit log)."""
    import sqlalchemy as sa

    from cohort.db import make_engine, make_sessionmaker, unit_of_work
    from cohort.identity.keyring import load_keyring
    from tests.builders import register

    engine = make_engine(fresh_database_url)
    with unit_of_work(make_sessionmaker(engine)) as s:
        participant = str(register(s, load_keyring(str(keys_file), env={})).uuid)
    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(keys_file),
           "COHORT_ERASURE_LEDGER_FILE": str(tmp_path / "ledger.jsonl")}
    missing = cohort("erase", participant, env=env)
    assert missing.returncode == 2
    assert "--reason" in missing.stderr
    short = cohort("erase", participant, "--reason", "oui", env=env)
    assert short.returncode == 2
    assert "reason: at least 10 characters" in short.stderr
    done = cohort("erase", participant, "--reason", "Demande écrite reçue le 2 mai", env=env)
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        purpose = conn.execute(sa.text(
            "SELECT purpose FROM audit_entry WHERE action = 'participant.erase'")).scalar_one()
    engine.dispose()
    assert purpose == "Demande écrite reçue le 2 mai"
