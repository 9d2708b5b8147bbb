"""Streamer keys derived from the seed and the pod name: the same for every replica,
different for every pod and every seed, and shaped as the streamer expects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from orchestrator.backends.kubernetes.keys import streamer_key
from orchestrator.key_strength import key_weakness

SEED = "Zq3xV8mP1tL6wR9kN2bC7yH4fJ0dG5sA"


def test_the_key_is_the_unpadded_base64url_hmac_sha256_of_the_pod_name() -> None:
    digest = hmac.new(SEED.encode(), b"ixstream-streamer-b7k2x", hashlib.sha256).digest()
    key = streamer_key(SEED, "ixstream-streamer-b7k2x")
    assert key == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key)


def test_every_replica_derives_the_same_key_and_each_pod_and_seed_its_own() -> None:
    assert streamer_key(SEED, "p-1") == streamer_key(SEED, "p-1")
    assert streamer_key(SEED, "p-1") != streamer_key(SEED, "p-2")
    assert streamer_key(SEED, "p-1") != streamer_key(SEED[::-1], "p-1")


def test_a_derived_key_is_strong_enough_to_sign_tokens() -> None:
    assert key_weakness(streamer_key(SEED, "ixstream-streamer-b7k2x")) is None
