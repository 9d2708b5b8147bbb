"""Clusters the backend's core tests run on: the simulator, and the real cluster that
`KUBECONFIG` names when the run asks for it (`conftest.api_cluster`)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client, config
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.client import KubeClient, Obj
from orchestrator.backends.kubernetes.settings import KubernetesSettings

REAL = "real_cluster"


class RealClusterSettings(BaseSettings):
    """What the real-cluster run reads from the environment."""

    model_config = SettingsConfigDict(extra="ignore")

    kubeconfig: Path | None = Field(None, validation_alias="KUBECONFIG")
    context: str | None = Field(None, validation_alias="IXS_TEST_KUBE_CONTEXT")
    image: str = Field(
        "ghcr.io/ixstream/streamer:0.1.0",
        validation_alias="IXS_TEST_STREAMER_IMAGE",
        description="A streamer image the cluster can pull (or has loaded: `kind load`).",
    )
    gpu_resource: str = Field(
        "",
        validation_alias="IXS_TEST_GPU_RESOURCE",
        description="Empty: streamers request no GPU (test pattern, software encoder).",
    )
    ready_timeout_s: float = Field(300.0, validation_alias="IXS_TEST_READY_TIMEOUT_S")


@dataclass
class ApiCluster:
    """One cluster the test runs on: how a backend reaches it, and its pods."""

    name: str
    namespace: str
    ready_timeout_s: float
    make_settings: Callable[..., KubernetesSettings]

    def settings(self, **overrides: Any) -> KubernetesSettings:
        return self.make_settings(**overrides)

    @contextlib.asynccontextmanager
    async def backend(self, **overrides: Any) -> AsyncIterator[KubernetesBackend]:
        backend = KubernetesBackend(self.settings(**overrides))
        await backend.open()
        try:
            yield backend
        finally:
            await backend.close()

    async def pods(self) -> list[Obj]:
        """The namespace's streamer pods, read from the API server (not a cache)."""
        api = KubeClient(self.settings())
        await api.open()
        try:
            listing = await api.list_pods(m.managed_selector(self.settings()))
        finally:
            await api.close()
        return list(listing.get("items") or [])


def marker_selected(pytest_config: pytest.Config) -> bool:
    """Whether `-m` asks for real-cluster tests (and not for everything but them)."""
    expression = str(pytest_config.getoption("markexpr", "")).replace(" ", "")
    return REAL in expression and f"not{REAL}" not in expression


@contextlib.asynccontextmanager
async def throwaway_namespace(real: RealClusterSettings) -> AsyncIterator[str]:
    api_client = await config.new_client_from_config(
        config_file=str(real.kubeconfig), context=real.context
    )
    async with api_client:
        core = client.CoreV1Api(api_client)
        namespace = f"ixs-test-{secrets.token_hex(4)}"
        await core.create_namespace({"metadata": {"name": namespace}})
        try:
            yield namespace
        finally:
            await core.delete_namespace(namespace)
