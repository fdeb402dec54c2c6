"""AES-256-GCM sealing of identity records, bound to their row by associated data.

A sealed value is ``nonce (12 bytes) || ciphertext+tag``. The associated data names the
table, column, participant uuid and key version, so a ciphertext copied onto another
row (or relabelled with another version) fails to open instead of revealing a person.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cohort.identity.keyring import PurposeKeys

NONCE_BYTES = 12
K = TypeVar("K")


class SealBroken(Exception):
    """A sealed value failed authentication: tampered, moved to another row, or wrong key."""


def _aad(table: str, column: str, row: uuid.UUID | str, version: int) -> bytes:
    return f"cohort|{table}|{column}|{row}|v{version}".encode()


def seal(keys: PurposeKeys, table: str, column: str, row: uuid.UUID,
         record: dict[str, Any]) -> tuple[bytes, int]:
    """Encrypt a JSON record under the current key; return (sealed bytes, key version)."""
    version = keys.current
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    ciphertext = AESGCM(keys.key(version)).encrypt(
        nonce, plaintext, _aad(table, column, row, version)
    )
    return nonce + ciphertext, version


def open_sealed(keys: PurposeKeys, table: str, column: str, row: uuid.UUID,
                sealed: bytes, version: int) -> dict[str, Any]:
    """Decrypt a sealed record; raise SealBroken on any authentication failure."""
    try:
        plaintext = AESGCM(keys.key(version)).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(table, column, row, version)
        )
    except (InvalidTag, ValueError):
        raise SealBroken(f"sealed {table}.{column} failed authentication") from None
    result: dict[str, Any] = json.loads(plaintext)
    return result


def open_many(keys: PurposeKeys, table: str, column: str,
              rows: Iterable[tuple[K, uuid.UUID | str, bytes, int]]
              ) -> Iterator[tuple[K, dict[str, Any] | None]]:
    """Open many sealed records in one pass, with one cipher per key version (a list
    decrypting a whole caseload spent more building ciphers than decrypting). The row's
    uuid may come as its text (as stored: no UUID object to build and print again).
    Yields (the row's key, its record), None for a record that fails authentication."""
    ciphers: dict[int, AESGCM] = {}
    decode = json.JSONDecoder().decode
    for key, row, sealed, version in rows:
        cipher = ciphers.get(version)
        if cipher is None:
            cipher = ciphers[version] = AESGCM(keys.key(version))
        try:
            plaintext = cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                       _aad(table, column, row, version))
        except (InvalidTag, ValueError):
            yield key, None
            continue
        yield key, decode(plaintext.decode())
