"""How the simulated container runtime picks a command and builds the environment."""

from __future__ import annotations

import base64

import pytest

from kubesim.containers import ContainerConfigError, container_env, entrypoint, expand

POD = {
    "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"}},
    "spec": {"nodeName": "n1"},
    "status": {"podIP": "127.128.1.2"},
}
SECRET = {"data": {"key": base64.b64encode(b"s3cret").decode()}}


def test_dependent_variables_expand_and_double_dollars_escape() -> None:
    env = {"POD_IP": "127.128.1.2"}
    assert expand("--host=$(POD_IP)", env) == "--host=127.128.1.2"
    assert expand("$$(POD_IP) $(UNKNOWN)", env) == "$(POD_IP) $(UNKNOWN)"


def test_the_image_entrypoint_is_used_only_for_images_the_simulator_may_run() -> None:
    runs = {"ghcr.io/ixstream/streamer": ["python", "-m", "ixstream"]}
    container = {"image": "ghcr.io/ixstream/streamer:1.2", "args": ["stream"]}
    assert entrypoint(container, runs) == ["python", "-m", "ixstream", "stream"]
    assert entrypoint({"image": "nginx:1", "args": ["x"]}, runs) is None


def test_env_resolves_values_downward_api_fields_and_secret_keys() -> None:
    container = {
        "env": [
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "k", "key": "key"}}},
            {"name": "URL", "value": "http://$(POD_IP):8080"},
        ]
    }
    env = container_env(POD, container, lambda kind, name: SECRET if name == "k" else None)
    assert env == {
        "POD_IP": "127.128.1.2",
        "APP": "x",
        "KEY": "s3cret",
        "URL": "http://127.128.1.2:8080",
    }


def test_a_missing_secret_is_a_container_config_error() -> None:
    container = {
        "env": [{"name": "K", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "k"}}}]
    }
    with pytest.raises(ContainerConfigError, match="not found"):
        container_env(POD, container, lambda kind, name: None)
