"""Settings refuse unsafe configurations: no default secret outside dev mode, no key
that is not random (placeholder, short, repeated, sequential, dictionary), and dev mode's
generated key stays on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from orchestrator.settings import OrchestratorSettings

#: What `secrets.token_urlsafe(32)` gives: the kind of key the docs tell people to make.
STRONG = "Jx4vQp9LmZ2sTn7RcW1yHb6KdF8gAe3Uo5iMtVwXqYs"
SEED = "Rm8cT2wQ6zK1vN9xB4hL7pY3fD5gJ0sAe-seed"
TURN_SECRET = "Hv3nK8qZ1mW6xT9rB2cL5yF7dP4gS0jA-turn"


def test_production_refuses_to_start_without_a_key_or_an_issuer() -> None:
    with pytest.raises(ValidationError, match="production mode needs IXS_ORCH_JWT_SECRET"):
        OrchestratorSettings(mode="production")


@pytest.mark.parametrize("secret", ["changethis", "secret", "CHANGEME"])
def test_a_placeholder_secret_is_refused_in_every_mode(secret: str) -> None:
    for mode in ("dev", "production"):
        with pytest.raises(ValidationError, match="placeholder"):
            OrchestratorSettings(mode=mode, jwt_secret=SecretStr(secret))


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        OrchestratorSettings(mode="production", jwt_secret=SecretStr("x" * 31))


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("a" * 32, "fewer than 8 different characters"),
        ("abcd" * 8, "fewer than 8 different characters"),
        ("S3CR3T-abcdef" * 3, "a shorter run of characters written over and over"),
        ("orchestrator-tests-" + "k" * 24, "a shorter run of characters written over and over"),
        ("abcdefghijklmnopqrstuvwxyzABCDEF", "alphabet, digit or keyboard sequence"),
        ("qwertyuiopasdfghjkl1234567890zxcv", "alphabet, digit or keyboard sequence"),
        ("mysupersecretpassword12345678901", "mostly common words"),
        ("abaabbabbbaabababbaabbabaxqmzkwj", "bits of entropy"),
    ],
    ids=["one-letter", "short-cycle", "repeated-word", "padded", "alphabet", "keyboard",
         "dictionary", "low-entropy"],
)  # fmt: skip
def test_a_key_that_is_long_but_not_random_is_refused_in_every_mode(secret: str, why: str) -> None:
    for mode in ("dev", "production"):
        with pytest.raises(ValidationError, match=why) as caught:
            OrchestratorSettings(mode=mode, jwt_secret=SecretStr(secret))
        assert secret not in str(caught.value)  # the message never echoes the key


def test_production_accepts_a_random_key() -> None:
    settings = OrchestratorSettings(mode="production", jwt_secret=SecretStr(STRONG), host="0.0.0.0")
    assert not settings.generated_secret


def test_the_key_can_come_from_a_file_and_is_checked_like_any_other(tmp_path: Path) -> None:
    good, weak = tmp_path / "good", tmp_path / "weak"
    good.write_text(STRONG + "\n")
    weak.write_text("x" * 40 + "\n")
    settings = OrchestratorSettings(mode="production", jwt_secret_file=good, host="0.0.0.0")
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == STRONG
    with pytest.raises(ValidationError, match="different characters"):
        OrchestratorSettings(mode="production", jwt_secret_file=weak)
    with pytest.raises(ValidationError, match="cannot be read"):
        OrchestratorSettings(mode="production", jwt_secret_file=tmp_path / "missing")


def test_production_accepts_an_oidc_issuer_with_its_jwks_url() -> None:
    settings = OrchestratorSettings(
        mode="production", oidc_issuer="https://idp", oidc_jwks_url="https://j"
    )
    assert (settings.oidc_issuer, settings.oidc_jwks_url) == ("https://idp", "https://j")
    assert settings.jwt_secret is None
    assert not settings.generated_secret


def test_an_issuer_without_a_jwks_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="both"):
        OrchestratorSettings(mode="production", oidc_issuer="https://idp")


def test_dev_mode_generates_a_fresh_key_each_time() -> None:
    one, two = OrchestratorSettings(mode="dev"), OrchestratorSettings(mode="dev")
    assert one.generated_secret
    assert one.jwt_secret is not None
    assert two.jwt_secret is not None
    assert one.jwt_secret.get_secret_value() != two.jwt_secret.get_secret_value()
    assert len(one.jwt_secret.get_secret_value()) >= 32


def test_dev_mode_refuses_to_listen_beyond_loopback() -> None:
    with pytest.raises(ValidationError, match="loopback only"):
        OrchestratorSettings(mode="dev", host="0.0.0.0")


def test_settings_come_from_ixs_orch_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IXS_ORCH_MODE", "production")
    monkeypatch.setenv("IXS_ORCH_JWT_SECRET", STRONG)
    monkeypatch.setenv("IXS_ORCH_MAX_SESSIONS", "7")
    settings = OrchestratorSettings()
    assert settings.mode == "production"
    assert settings.max_sessions == 7


def test_the_secret_never_appears_in_the_settings_repr() -> None:
    settings = OrchestratorSettings(mode="production", jwt_secret=SecretStr(STRONG))
    assert STRONG not in repr(settings)


def test_streamers_offer_loopback_candidates_only_when_the_api_is_on_loopback() -> None:
    assert OrchestratorSettings().ice_hosts == ["127.0.0.1"]
    public = OrchestratorSettings(mode="production", jwt_secret=SecretStr(STRONG), host="0.0.0.0")
    assert public.ice_hosts is None


def test_the_settings_table_in_the_docs_lists_every_setting() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "orchestrator.md").read_text()
    for name in OrchestratorSettings.model_fields:
        assert f"`IXS_ORCH_{name.upper()}`" in docs, name


def test_the_kubernetes_backend_and_its_nested_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The names the Helm chart and k8s/orchestrator.yaml set.
    environment = {
        "IXS_ORCH_BACKEND": "kubernetes",
        "IXS_ORCH_POOL_SIZE": "0",
        "IXS_ORCH_KUBERNETES__NAMESPACE": "training",
        "IXS_ORCH_KUBERNETES__REPLICA_ID": "orchestrator-0",
        "IXS_ORCH_KUBERNETES__POOL_BUFFER": "3",
        "IXS_ORCH_KUBERNETES__POOL_MAX": "12",
        "IXS_ORCH_KUBERNETES__GPU_RESOURCE": "nvidia.com/mig-1g.10gb",
        "IXS_ORCH_KUBERNETES__NODE_SELECTOR": '{"pool": "gpu"}',
        "IXS_ORCH_ICE__TURN_URIS": '["turn:turn.example.org:3478?transport=udp"]',
        "IXS_ORCH_ICE__TURN_SECRET": TURN_SECRET,
        "IXS_ORCH_KUBERNETES__STREAMER_KEY_SEED": SEED,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = OrchestratorSettings()
    assert settings.backend == "kubernetes"
    kube = settings.kubernetes
    assert kube.namespace == "training"
    assert kube.replica_id == "orchestrator-0"
    assert (kube.pool_buffer, kube.pool_max) == (3, 12)
    assert kube.gpu_resource == "nvidia.com/mig-1g.10gb"
    assert kube.node_selector == {"pool": "gpu"}
    assert settings.ice.turn_uris == ["turn:turn.example.org:3478?transport=udp"]
    assert settings.ice.turn_secret is not None
    assert settings.ice.turn_secret.get_secret_value() == TURN_SECRET
    assert kube.streamer_key_seed is not None
    assert kube.streamer_key_seed.get_secret_value() == SEED


def test_the_kubernetes_backend_refuses_to_start_without_a_streamer_key_seed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IXS_ORCH_BACKEND", "kubernetes")
    with pytest.raises(ValidationError, match="STREAMER_KEY_SEED, the same on every replica"):
        OrchestratorSettings()


@pytest.mark.parametrize("weak", ["changeme", "s" * 40, "abcdefghijklmnopqrstuvwxyz0123456789"])
def test_a_weak_streamer_key_seed_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, weak: str
) -> None:
    monkeypatch.setenv("IXS_ORCH_BACKEND", "kubernetes")
    monkeypatch.setenv("IXS_ORCH_KUBERNETES__STREAMER_KEY_SEED", weak)
    with pytest.raises(ValidationError, match="STREAMER_KEY_SEED") as refused:
        OrchestratorSettings()
    assert weak not in str(refused.value)


def test_an_unknown_kubernetes_setting_is_refused_rather_than_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IXS_ORCH_KUBERNETES__POOL_BUFER", "3")
    with pytest.raises(ValidationError, match="pool_bufer"):
        OrchestratorSettings()
