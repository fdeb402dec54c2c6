"""Sealed identity records (vault.py) and keyed hashes (pseudonym.py), domain.md §3."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable

import pytest

from cohort.identity.keyring import Purpose, PurposeKeys
from cohort.identity.pseudonym import all_versions, keyed_hash
from cohort.identity.vault import NONCE_BYTES, SealBroken, open_many, open_sealed, seal

KEY_V1, KEY_V2 = bytes(range(32)), bytes(range(32, 64))
ROW = uuid.UUID("0b7e0d6c-8a0f-4f4e-9a55-3b8f0a4d2c11")
OTHER_ROW = uuid.UUID("5a1c2e9d-7b3f-4c1a-8e2d-6f0b9c8a7d42")
RECORD = {"last_name": "Dupont-Martin", "first_names": "Éloïse", "birth_date": "2005-03-01"}


def enc_keys(current: int = 1) -> PurposeKeys:
    return PurposeKeys(Purpose.ENCRYPTION, current=current, keys={1: KEY_V1, 2: KEY_V2})


def test_seal_then_open_round_trip() -> None:
    sealed, version = seal(enc_keys(), "participant", "identity", ROW, RECORD)
    assert version == 1
    assert open_sealed(enc_keys(), "participant", "identity", ROW, sealed, version) == RECORD


def test_seal_uses_the_current_version_and_old_versions_still_open() -> None:
    old, v1 = seal(enc_keys(current=1), "participant", "identity", ROW, RECORD)
    new, v2 = seal(enc_keys(current=2), "participant", "identity", ROW, RECORD)
    assert (v1, v2) == (1, 2)
    rotated = enc_keys(current=2)
    assert open_sealed(rotated, "participant", "identity", ROW, old, v1) == RECORD
    assert open_sealed(rotated, "participant", "identity", ROW, new, v2) == RECORD


def test_sealed_bytes_do_not_contain_the_identity() -> None:
    sealed, _ = seal(enc_keys(), "participant", "identity", ROW, RECORD)
    assert b"Dupont" not in sealed
    assert "Éloïse".encode() not in sealed


Tamper = Callable[[bytes, int], tuple[bytes, int, uuid.UUID, str]]


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s, v: (s, v, OTHER_ROW, "identity"), id="moved-to-another-row"),
        pytest.param(lambda s, v: (s, v, ROW, "contact"), id="moved-to-another-column"),
        pytest.param(lambda s, v: (s, 2, ROW, "identity"), id="relabelled-version"),
        pytest.param(lambda s, v: (_flip(s, 0), v, ROW, "identity"), id="nonce-byte-flipped"),
        pytest.param(
            lambda s, v: (_flip(s, NONCE_BYTES + 3), v, ROW, "identity"),
            id="ciphertext-byte-flipped",
        ),
        pytest.param(lambda s, v: (_flip(s, len(s) - 1), v, ROW, "identity"), id="tag-flipped"),
        pytest.param(lambda s, v: (s[:-1], v, ROW, "identity"), id="truncated"),
        pytest.param(lambda s, v: (s[:5], v, ROW, "identity"), id="shorter-than-a-nonce"),
    ],
)
def test_tampered_seal_never_opens(tamper: Tamper) -> None:
    sealed, version = seal(enc_keys(), "participant", "identity", ROW, RECORD)
    data, label, row, column = tamper(sealed, version)
    with pytest.raises(SealBroken) as caught:
        open_sealed(enc_keys(), "participant", column, row, data, label)
    assert "Dupont" not in str(caught.value)


def test_version_is_bound_even_when_two_versions_share_a_key() -> None:
    same = PurposeKeys(Purpose.ENCRYPTION, current=1, keys={1: KEY_V1, 2: KEY_V1})
    sealed, version = seal(same, "participant", "identity", ROW, RECORD)
    with pytest.raises(SealBroken):
        open_sealed(same, "participant", "identity", ROW, sealed, version + 1)


def test_every_single_byte_flip_is_detected() -> None:
    sealed, version = seal(enc_keys(), "participant", "identity", ROW, {"n": 1})
    for i in range(len(sealed)):
        with pytest.raises(SealBroken):
            open_sealed(enc_keys(), "participant", "identity", ROW, _flip(sealed, i), version)


def test_same_record_sealed_twice_differs_and_nonces_never_repeat() -> None:
    a, _ = seal(enc_keys(), "participant", "identity", ROW, RECORD)
    b, _ = seal(enc_keys(), "participant", "identity", ROW, RECORD)
    assert a != b
    nonces = {
        seal(enc_keys(), "participant", "identity", ROW, RECORD)[0][:NONCE_BYTES]
        for _ in range(1000)
    }
    assert len(nonces) == 1000


# ---- pseudonym --------------------------------------------------------------------------

IDENTITY = "DUPONT MARTIN\x1fELOISE\x1f2005-03-01"


def hmac_keys() -> PurposeKeys:
    return PurposeKeys(Purpose.PSEUDONYM, current=2, keys={1: KEY_V1, 2: KEY_V2})


@pytest.mark.parametrize(("version", "key"), [(1, KEY_V1), (2, KEY_V2)])
def test_keyed_hash_is_stdlib_hmac_sha256(version: int, key: bytes) -> None:
    expected = hmac.new(key, IDENTITY.encode("utf-8"), hashlib.sha256).hexdigest()
    assert keyed_hash(hmac_keys(), version, IDENTITY) == expected


def test_keyed_hash_differs_per_key_version_and_per_identity() -> None:
    keys = hmac_keys()
    assert keyed_hash(keys, 1, IDENTITY) != keyed_hash(keys, 2, IDENTITY)
    assert keyed_hash(keys, 1, IDENTITY) != keyed_hash(keys, 1, IDENTITY + "x")
    assert keyed_hash(keys, 1, IDENTITY) != hashlib.sha256(IDENTITY.encode()).hexdigest()


def test_all_versions_hashes_under_every_key() -> None:
    keys = hmac_keys()
    assert all_versions(keys, IDENTITY) == {
        1: keyed_hash(keys, 1, IDENTITY),
        2: keyed_hash(keys, 2, IDENTITY),
    }


def test_open_many_opens_each_version_and_flags_a_moved_seal() -> None:
    """The caseload's one-pass decryption: the same records as open_sealed, None for a seal
    copied onto another row (never its content)."""
    old, v1 = seal(enc_keys(current=1), "participant", "identity", ROW, RECORD)
    new, v2 = seal(enc_keys(current=2), "participant", "identity", OTHER_ROW, RECORD)
    rows = [(1, ROW, old, v1), (2, OTHER_ROW, new, v2), (3, OTHER_ROW, old, v1)]
    opened = dict(open_many(enc_keys(current=2), "participant", "identity", rows))
    assert opened == {1: RECORD, 2: RECORD, 3: None}
