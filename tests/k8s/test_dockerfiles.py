"""The container images' Dockerfiles, read statically (no Docker engine runs on the
project's machines, so they cannot be built here): pinned bases, non-root users, the
NVIDIA capabilities a render pod needs, entrypoints that match what the manifests
pass as arguments, and the sample scenarios the library's init container seeds from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrator.backends.kubernetes.manifests import streamer_args
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from tests.k8s.orchestrator_pod import LIBRARY, SAMPLES_IN_IMAGE
from tests.k8s.validation import load_documents
from tests.kubesim.harness import PROFILE

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def dockerfile(name: str) -> str:
    return (DOCKER / f"{name}.Dockerfile").read_text()


def _images(text: str) -> list[str]:
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    images = []
    for ref in re.findall(r"^FROM (\S+)", text, re.M):
        image = args.get(ref.strip("${}"), ref)
        if not re.match(r"^[a-z]+$", image):  # not a build stage name
            images.append(image)
    return images


@pytest.mark.parametrize("name", ["streamer", "orchestrator"])
def test_base_images_are_pinned_to_exact_versions(name: str) -> None:
    for image in _images(dockerfile(name)):
        tag = image.rsplit(":", 1)[-1]
        assert ":" in image, image
        assert tag != "latest"
        assert re.search(r"\d+\.\d+", tag), image


@pytest.mark.parametrize("name", ["streamer", "orchestrator"])
def test_images_run_as_a_non_root_user_that_the_pods_also_require(name: str) -> None:
    text = dockerfile(name)
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert "--frozen" in text  # exactly the locked dependencies


def test_the_streamer_image_asks_for_graphics_video_compute_and_utility() -> None:
    match = re.search(r"NVIDIA_DRIVER_CAPABILITIES=(\S+)", dockerfile("streamer"))
    assert match is not None
    assert set(match.group(1).split(",")) == {"graphics", "video", "compute", "utility"}
    assert "10_nvidia.json" in dockerfile("streamer")  # EGL vendor file for glvnd


def test_entrypoints_take_the_arguments_the_manifests_pass() -> None:
    assert 'ENTRYPOINT ["ixstream"]' in dockerfile("streamer")
    assert streamer_args(KubernetesSettings(), PROFILE, None)[0] == "stream"
    assert 'ENTRYPOINT ["python", "-m", "orchestrator"]' in dockerfile("orchestrator")
    docs = load_documents((ROOT / "k8s/orchestrator.yaml").read_text())
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"][0] == "up"


def test_the_orchestrator_image_ships_the_sample_scenarios_where_the_seeding_reads_them() -> None:
    text = dockerfile("orchestrator")
    final_stage = text[text.rindex("\nFROM ") :]
    assert re.search(
        rf"^COPY scenarios/\*\.yaml {re.escape(SAMPLES_IN_IMAGE)}/$", final_stage, re.M
    )
    assert final_stage.index("COPY scenarios") < final_stage.index("USER 10001")  # root-owned
    assert f"IXS_ORCH_SCENARIO_DIR={LIBRARY}" in final_stage
    assert list((ROOT / "scenarios").glob("*.yaml"))


def test_the_orchestrator_build_context_lets_the_samples_in() -> None:
    rules = (DOCKER / "orchestrator.Dockerfile.dockerignore").read_text().splitlines()
    # The last matching rule wins (BuildKit's .dockerignore semantics).
    assert rules.index("!scenarios/*.yaml") > rules.index("**")
    assert not any(r.startswith("scenarios") for r in rules)
