"""Keyed hashes: the participant pseudonym and the NIR blind index (HMAC-SHA-256)."""

from __future__ import annotations

import hashlib
import hmac

from cohort.identity.keyring import PurposeKeys


def keyed_hash(keys: PurposeKeys, version: int, text: str) -> str:
    """Hex HMAC-SHA-256 of a normalised string under one key version."""
    return hmac.new(keys.key(version), text.encode("utf-8"), hashlib.sha256).hexdigest()


def all_versions(keys: PurposeKeys, text: str) -> dict[int, str]:
    """The hash under every configured version (look-ups during a rotation try them all)."""
    return {v: keyed_hash(keys, v, text) for v in sorted(keys.keys)}
