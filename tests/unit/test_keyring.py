"""Key loading (keyring.py): from a TOML file or an explicit env mapping; failures name the
setting and never echo a key."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from cohort.errors import ConfigError
from cohort.identity.keyring import Purpose, generate_key_file, load_keyring


def b64(fill: int, size: int = 32) -> str:
    return base64.b64encode(bytes([fill]) * size).decode()


PSEUDONYM_V1, PSEUDONYM_V2, NIR_V1, ENC_V1 = b64(1), b64(2, 48), b64(3), b64(4)


def good_env() -> dict[str, str]:
    return {
        "COHORT_KEY_PSEUDONYM_V1": PSEUDONYM_V1,
        "COHORT_KEY_PSEUDONYM_V2": PSEUDONYM_V2,
        "COHORT_KEY_PSEUDONYM_CURRENT": "2",
        "COHORT_KEY_NIR_V1": NIR_V1,
        "COHORT_KEY_NIR_CURRENT": "1",
        "COHORT_KEY_ENCRYPTION_V1": ENC_V1,
        "COHORT_KEY_ENCRYPTION_CURRENT": "1",
    }


def toml_text(**override: str) -> str:
    """A valid key file; ``override`` replaces a line by ``purpose_line`` name."""
    lines = {
        "pseudonym_current": "current = 1",
        "pseudonym_1": f'1 = "{PSEUDONYM_V1}"',
        "nir_current": "current = 1",
        "nir_1": f'1 = "{NIR_V1}"',
        "encryption_current": "current = 1",
        "encryption_1": f'1 = "{ENC_V1}"',
    } | override
    out = []
    for purpose in ("pseudonym", "nir", "encryption"):
        out.append(f"[{purpose}]")
        out += [v for k, v in lines.items() if k.startswith(purpose + "_") and v]
    return "\n".join(out) + "\n"


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "keys.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_load_from_toml_file(tmp_path: Path) -> None:
    ring = load_keyring(write(tmp_path, toml_text()), env={})
    assert ring[Purpose.PSEUDONYM].current == 1
    assert ring[Purpose.PSEUDONYM].current_key == bytes([1]) * 32
    assert ring[Purpose.NIR].key(1) == bytes([3]) * 32
    assert ring[Purpose.ENCRYPTION].current_key == bytes([4]) * 32
    assert ring.demo is False


def test_load_from_env_mapping_only() -> None:
    ring = load_keyring(None, env=good_env())
    pseudonym = ring[Purpose.PSEUDONYM]
    assert pseudonym.current == 2
    assert dict(pseudonym.keys) == {1: bytes([1]) * 32, 2: bytes([2]) * 48}


def test_env_wins_over_file_and_adds_versions(tmp_path: Path) -> None:
    env = {"COHORT_KEY_PSEUDONYM_V2": PSEUDONYM_V2, "COHORT_KEY_PSEUDONYM_CURRENT": "2"}
    ring = load_keyring(write(tmp_path, toml_text()), env=env)
    assert ring[Purpose.PSEUDONYM].current == 2
    assert set(ring[Purpose.PSEUDONYM].keys) == {1, 2}
    assert ring[Purpose.NIR].current == 1


def test_unconfigured_version_is_a_config_error() -> None:
    ring = load_keyring(None, env=good_env())
    with pytest.raises(ConfigError, match="nir version 7"):
        ring[Purpose.NIR].key(7)


SHORT = b64(9, 31)
NOT_B64 = "this-is-not*base64!!" + "x" * 30
LONG_ENC = b64(9, 48)


@pytest.mark.parametrize(
    ("env_change", "setting", "secret"),
    [
        ({"COHORT_KEY_NIR_V1": None, "COHORT_KEY_NIR_CURRENT": None}, "COHORT_KEY_NIR_V", None),
        ({"COHORT_KEY_ENCRYPTION_CURRENT": None}, "COHORT_KEY_ENCRYPTION_CURRENT", None),
        ({"COHORT_KEY_NIR_V1": SHORT}, "COHORT_KEY_NIR_V1", SHORT),
        ({"COHORT_KEY_NIR_V1": NOT_B64}, "COHORT_KEY_NIR_V1", NOT_B64),
        ({"COHORT_KEY_ENCRYPTION_V1": LONG_ENC}, "COHORT_KEY_ENCRYPTION_V1", LONG_ENC),
        ({"COHORT_KEY_NIR_V1": PSEUDONYM_V1}, "pseudonym and nir", PSEUDONYM_V1),
        ({"COHORT_KEY_NIR_CURRENT": "3"}, "COHORT_KEY_NIR_CURRENT", None),
        ({"COHORT_KEY_NIR_CURRENT": "one"}, "COHORT_KEY_NIR_CURRENT", None),
        ({"COHORT_KEY_NIR_CURRENT": "1.5"}, "COHORT_KEY_NIR_CURRENT", None),
        ({"COHORT_KEY_NIR_Vx": NIR_V1}, "COHORT_KEY_NIR_Vx", NIR_V1),
        ({"COHORT_KEY_NIR_V\u00b2": b64(8)}, "COHORT_KEY_NIR_V\u00b2", b64(8)),
    ],
    ids=[
        "missing-purpose", "missing-current", "too-short", "not-base64", "aes-key-not-32",
        "same-key-two-purposes", "current-absent", "current-not-int", "current-fraction",
        "version-not-int", "version-superscript",
    ],
)
def test_env_failures_name_the_setting_and_hide_the_key(
    env_change: dict[str, str | None], setting: str, secret: str | None
) -> None:
    env = good_env()
    for name, value in env_change.items():
        if value is None:
            del env[name]
        else:
            env[name] = value
    with pytest.raises(ConfigError) as caught:
        load_keyring(None, env=env)
    message = str(caught.value)
    assert setting in message
    for key in {*env.values(), *(v for v in [secret] if v)}:
        if len(key) > 8:
            assert key not in message


def test_nothing_configured_at_all() -> None:
    with pytest.raises(ConfigError, match="KEYS_FILE: missing"):
        load_keyring(None, env={"HOME": "/root"})


@pytest.mark.parametrize(
    ("override", "setting", "secret"),
    [
        ({"nir_current": "", "nir_1": ""}, "KEYS_FILE.nir", None),
        ({"nir_current": ""}, "KEYS_FILE.nir.current", None),
        ({"nir_1": f'1 = "{SHORT}"'}, "KEYS_FILE.nir.1", SHORT),
        ({"nir_1": f'1 = "{NOT_B64}"'}, "KEYS_FILE.nir.1", NOT_B64),
        ({"nir_1": "1 = 12345"}, "KEYS_FILE.nir.1", None),
        ({"encryption_1": f'1 = "{LONG_ENC}"'}, "KEYS_FILE.encryption.1", LONG_ENC),
        ({"encryption_1": f'1 = "{NIR_V1}"'}, "nir and encryption", NIR_V1),
        ({"nir_current": "current = 2"}, "KEYS_FILE.nir.current", None),
        ({"nir_current": 'current = "one"'}, "KEYS_FILE.nir.current", None),
        ({"nir_current": "current = 1.5"}, "KEYS_FILE.nir.current", None),
        ({"nir_current": "current = true"}, "KEYS_FILE.nir.current", None),
        ({"nir_1": f'v1 = "{NIR_V1}"'}, "KEYS_FILE.nir.v1", NIR_V1),
    ],
    ids=[
        "missing-purpose", "missing-current", "too-short", "not-base64", "not-a-string",
        "aes-key-not-32", "same-key-two-purposes", "current-absent", "current-not-int",
        "current-fraction", "current-bool", "version-not-int",
    ],
)
def test_file_failures_name_the_setting_and_hide_the_key(
    tmp_path: Path, override: dict[str, str], setting: str, secret: str | None
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_keyring(write(tmp_path, toml_text(**override)), env={})
    message = str(caught.value)
    assert setting in message
    for key in (PSEUDONYM_V1, NIR_V1, ENC_V1, secret):
        if key:
            assert key not in message


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "KEYS_FILE: no such file"), ('[nir\n1 = "', "KEYS_FILE: not a valid TOML file")],
)
def test_unreadable_key_file(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "keys.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_keyring(str(path), env={})


@pytest.mark.parametrize("demo", [True, False])
def test_generated_key_file_is_private_and_loads(tmp_path: Path, demo: bool) -> None:
    path = tmp_path / "secrets" / "keys.toml"
    generate_key_file(path, demo=demo)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = load_keyring(str(path), env={})
    assert ring.demo is demo
    keys = [ring[p].current_key for p in Purpose]
    assert all(len(k) == 32 for k in keys)
    assert len(set(keys)) == len(keys)


def test_generate_key_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    generate_key_file(path, demo=False)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        generate_key_file(path, demo=True)
    assert path.read_bytes() == before


def test_two_generated_files_hold_different_keys(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "a.toml", demo=False)
    generate_key_file(tmp_path / "b.toml", demo=False)
    a = load_keyring(str(tmp_path / "a.toml"), env={})
    b = load_keyring(str(tmp_path / "b.toml"), env={})
    assert all(a[p].current_key != b[p].current_key for p in Purpose)


SIMILARITY_V1 = b64(5)


def test_a_key_file_without_similarity_still_loads(tmp_path: Path) -> None:
    """Written before the purpose existed: the service starts without duplicate detection."""
    ring = load_keyring(write(tmp_path, toml_text()), env={})
    assert not ring.has(Purpose.SIMILARITY)
    assert ring.has(Purpose.PSEUDONYM)
    with pytest.raises(ConfigError, match="KEYS_FILE.similarity: not configured"):
        ring[Purpose.SIMILARITY]


def test_similarity_keys_from_file_or_env(tmp_path: Path) -> None:
    text = toml_text() + f'[similarity]\ncurrent = 1\n1 = "{SIMILARITY_V1}"\n'
    ring = load_keyring(write(tmp_path, text), env={})
    assert ring[Purpose.SIMILARITY].current_key == bytes([5]) * 32
    env = good_env() | {"COHORT_KEY_SIMILARITY_V1": SIMILARITY_V1,
                        "COHORT_KEY_SIMILARITY_CURRENT": "1"}
    assert load_keyring(None, env=env).has(Purpose.SIMILARITY)


@pytest.mark.parametrize(("extra", "setting"), [
    ({"COHORT_KEY_SIMILARITY_V1": PSEUDONYM_V1, "COHORT_KEY_SIMILARITY_CURRENT": "1"},
     "pseudonym and similarity"),
    ({"COHORT_KEY_SIMILARITY_V1": SIMILARITY_V1}, "COHORT_KEY_SIMILARITY_CURRENT"),
    ({"COHORT_KEY_SIMILARITY_V1": SHORT, "COHORT_KEY_SIMILARITY_CURRENT": "1"},
     "COHORT_KEY_SIMILARITY_V1"),
], ids=["reused-across-purposes", "no-current", "too-short"])
def test_a_similarity_key_once_given_is_checked_like_the_others(
        extra: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_keyring(None, env=good_env() | extra)
    assert setting in str(caught.value)
    assert all(value not in str(caught.value) for value in extra.values() if len(value) > 8)


def test_new_key_files_include_every_purpose(tmp_path: Path) -> None:
    for demo in (False, True):
        path = tmp_path / f"keys-{demo}.toml"
        generate_key_file(path, demo=demo)
        ring = load_keyring(str(path), env={})
        assert all(ring.has(purpose) for purpose in Purpose)
        assert ring.demo is demo
