"""TURN REST API credentials (draft-uberti-behave-turn-rest-00, coturn's
`use-auth-secret`), the ICE servers one caller is handed, and the settings behind
them: only what is configured, never a public STUN server, and the old Kubernetes
names refused with the new ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from pydantic import ValidationError

from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.clock import ManualClock
from orchestrator.ice.issuer import IceIssuer, IceServer, ice_servers_env
from orchestrator.ice.settings import DEFAULT_TURN_TTL_S, IceServerSettings, IceSettings
from orchestrator.ice.turn import turn_credential

SECRET = "Zr4kQ9wLx2Tn7Vb5Hm8Jc3Pd6Fs1Gy0a"


def test_the_username_is_expiry_and_subject_and_the_password_its_hmac_sha1() -> None:
    credential = turn_credential("shared-secret", "s-42", now=1_700_000_000.9, ttl_s=600)
    assert credential.username == "1700000600:s-42"
    expected = hmac.new(b"shared-secret", b"1700000600:s-42", hashlib.sha1).digest()
    assert base64.b64decode(credential.credential) == expected


def test_a_subject_with_a_colon_is_refused() -> None:
    with pytest.raises(ValueError, match="':'"):
        turn_credential("secret", "a:b", now=0, ttl_s=60)


def test_nothing_is_handed_out_by_default() -> None:
    issuer = IceIssuer(IceSettings(), ManualClock())
    assert not issuer.configured
    assert issuer.servers_for("s-1") == []
    assert json.loads(ice_servers_env(issuer.servers_for("s-1"))) == []


def test_static_servers_come_first_then_every_turn_uri_with_one_fresh_credential() -> None:
    clock = ManualClock(1_700_000_000)
    settings = IceSettings(
        servers=[IceServerSettings(urls=["stun:stun.internal:3478"])],
        turn_uris=[
            "turn:turn.internal:3478?transport=udp",
            "turns:turn.internal:443?transport=tcp",
        ],
        turn_secret=SECRET,  # type: ignore[arg-type]  # pydantic makes it a SecretStr
        turn_ttl_s=600,
    )
    issuer = IceIssuer(settings, clock)
    stun, turn = issuer.servers_for("s-7")
    assert stun == IceServer(("stun:stun.internal:3478",))
    assert turn.urls == tuple(settings.turn_uris)
    assert turn.username == "1700000600:s-7"
    assert turn.credential == turn_credential(SECRET, "s-7", now=clock.now(), ttl_s=600).credential
    clock.advance(30)
    (_, later) = issuer.servers_for("s-7")
    assert later.username == "1700000630:s-7"  # minted when asked, not cached
    assert json.loads(ice_servers_env([stun, turn]))[0] == {"urls": ["stun:stun.internal:3478"]}


def test_the_default_lifetime_outlasts_the_longest_default_session() -> None:
    from orchestrator.settings import OrchestratorSettings

    default_max = OrchestratorSettings.model_fields["max_duration_s"].default
    assert IceSettings().turn_ttl_s == DEFAULT_TURN_TTL_S > default_max


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"turn_uris": ["turn:t:3478"]}, "needs IXS_ORCH_ICE__TURN_SECRET"),
        ({"turn_uris": ["https://t:443"], "turn_secret": SECRET}, "not a turn: or turns: URI"),
        ({"turn_ttl_s": 5}, "greater than or equal to 60"),
        ({"servers": [{"urls": []}]}, "at least 1 item"),
        ({"turn_uris": ["turn:t:3478"], "turn_secret": "changeme"}, "is a placeholder"),
        ({"turn_secret": "coturn" * 8}, "fewer than 8 different characters"),
    ],
)
def test_a_bad_ice_configuration_is_refused_precisely(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        IceSettings.model_validate(fields)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("turn_uris", "IXS_ORCH_ICE__TURN_URIS"),
        ("turn_secret", "IXS_ORCH_ICE__TURN_SECRET"),
        ("turn_ttl_s", "IXS_ORCH_ICE__TURN_TTL_S"),
        ("ice_servers", "IXS_ORCH_ICE__SERVERS"),
    ],
)
def test_the_old_kubernetes_names_are_refused_with_their_new_names(old: str, new: str) -> None:
    with pytest.raises(ValidationError, match=f"IXS_ORCH_KUBERNETES__{old.upper()} is now {new}"):
        KubernetesSettings.model_validate({old: "x"})
