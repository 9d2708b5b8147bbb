"""The key a streamer pod verifies session tokens with, derived from its name.

key = base64url(HMAC-SHA256(seed, pod name)), without padding (RFC 4648 §5): 43
characters carrying 256 bits. Every orchestrator replica, and one that restarts, holds
the same seed (`streamer_key_seed`), so each computes any pod's key from the pod's name
alone and never reads a Secret back: the Secret exists only so the kubelet can hand the
key to the container (`secretKeyRef`), and the orchestrator needs no permission to
read Secrets. HMAC keeps the keys independent (RFC 2104): knowing one pod's key says
nothing of another's, nor of the seed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def streamer_key(seed: str, pod_name: str) -> str:
    """The HS256 key of the streamer in pod `pod_name`."""
    digest = hmac.new(seed.encode(), pod_name.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
