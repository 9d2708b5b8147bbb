"""The chart's scenario library and session records: both mounted where the
orchestrator's settings point, on shared claims the chart creates (or an existing claim,
or an emptyDir when persistence is off), the library seeded from the image's samples by
an init container that never overwrites a file, and `values.schema.json` refusing
storage values Kubernetes would refuse later or that would strand a replica.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.k8s.chart import (
    ROOT,
    render,
    rendered,
    schema,
    schema_complaint_about_an_extra_key,
    schema_rejects,
    values,
)
from tests.k8s.orchestrator_pod import (
    LIBRARY,
    RECORDS,
    container,
    mounts,
    orchestrator_pod,
    run_seed_script,
    settings_from_env,
    uses_no_clobber_copy,
)
from tests.k8s.validation import validate_all


def claims(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "PersistentVolumeClaim"}


def test_the_orchestrator_mounts_the_library_and_records_claims_where_its_settings_point(
    helm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pod = orchestrator_pod(rendered(helm, "records.retentionDays=7"))
    mounted = mounts(pod, "orchestrator")
    assert mounted[LIBRARY]["persistentVolumeClaim"]["claimName"] == "ixs-library"
    assert mounted[RECORDS]["persistentVolumeClaim"]["claimName"] == "ixs-records"
    settings = settings_from_env(container(pod, "orchestrator")["env"], monkeypatch)
    assert settings.scenario_dir == Path(LIBRARY)
    assert settings.aar_path == Path(RECORDS) / "aar"
    assert settings.recordings_path == Path(RECORDS) / "recordings"
    assert settings.aar_retention_days == 7
    assert settings.backend == "kubernetes"


def test_shared_claims_are_rendered_read_write_many_and_kept_on_uninstall(helm: Path) -> None:
    docs = rendered(helm, "library.persistence.storageClass=nfs-client")
    validate_all(docs)
    found = claims(docs)
    assert set(found) == {"ixs-library", "ixs-records"}
    for claim in found.values():
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert found["ixs-library"]["spec"]["storageClassName"] == "nfs-client"
    assert "storageClassName" not in found["ixs-records"]["spec"]  # the cluster default
    assert found["ixs-records"]["spec"]["resources"]["requests"]["storage"] == "20Gi"


def test_an_existing_claim_is_mounted_and_no_claim_is_created_for_it(helm: Path) -> None:
    docs = rendered(helm, "records.persistence.existingClaim=site-recordings")
    assert set(claims(docs)) == {"ixs-library"}
    volume = mounts(orchestrator_pod(docs), "orchestrator")[RECORDS]
    assert volume["persistentVolumeClaim"]["claimName"] == "site-recordings"


def test_without_persistence_both_stores_are_empty_dirs_and_no_claim_exists(helm: Path) -> None:
    docs = rendered(helm, "library.persistence.enabled=false", "records.persistence.enabled=false")
    validate_all(docs)
    assert claims(docs) == {}
    mounted = mounts(orchestrator_pod(docs), "orchestrator")
    assert mounted[LIBRARY]["emptyDir"] == {"sizeLimit": "1Gi"}
    assert mounted[RECORDS]["emptyDir"] == {"sizeLimit": "20Gi"}


def test_the_seeding_init_container_is_as_hardened_as_the_orchestrator(helm: Path) -> None:
    pod = orchestrator_pod(rendered(helm))
    (init,) = pod["initContainers"]
    main = container(pod, "orchestrator")
    assert init["image"] == main["image"]
    assert init["securityContext"] == main["securityContext"]
    assert init["securityContext"]["readOnlyRootFilesystem"] is True
    assert mounts(pod, "seed-scenarios") == {LIBRARY: mounts(pod, "orchestrator")[LIBRARY]}
    assert uses_no_clobber_copy(init["command"][-1])


def test_seeding_copies_missing_samples_and_never_overwrites_an_instructors_edit(
    helm: Path, tmp_path: Path
) -> None:
    (init,) = orchestrator_pod(rendered(helm))["initContainers"]
    library = tmp_path / "library"
    library.mkdir()
    edited = library / "traffic-stop-night.yaml"
    edited.write_text("# the instructor's own version\n")
    run_seed_script(init, ROOT / "scenarios", library)
    again = run_seed_script(init, ROOT / "scenarios", library)  # the next pod start
    assert edited.read_text() == "# the instructor's own version\n"
    samples = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))
    assert sorted(p.name for p in library.iterdir()) == samples
    seeded = library / "gas-leak-warehouse.yaml"
    assert seeded.read_bytes() == (ROOT / "scenarios/gas-leak-warehouse.yaml").read_bytes()
    assert "seeded" not in again


def test_seeding_can_be_turned_off(helm: Path) -> None:
    pod = orchestrator_pod(rendered(helm, "library.seedSamples=false"))
    assert "initContainers" not in pod


def test_a_single_replica_may_use_read_write_once_and_then_updates_by_recreate(
    helm: Path,
) -> None:
    docs = rendered(helm, "orchestrator.replicas=1", "library.persistence.accessMode=ReadWriteOnce")
    validate_all(docs)
    assert claims(docs)["ixs-library"]["spec"]["accessModes"] == ["ReadWriteOnce"]
    deployment = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "ixs-orchestrator"
    )
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_replicas_refuse_to_share_a_volume_only_one_node_can_write(helm: Path) -> None:
    refused = render(helm, "records.persistence.accessMode=ReadWriteOnce", check=False)
    assert refused.returncode != 0
    assert "records.persistence.accessMode=ReadWriteMany" in refused.stderr


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("library.persistence.accessMode=ReadOnlyMany", "accessMode"),
        ("records.persistence.size=lots", "size"),
        ("records.retentionDays=0", "minimum"),
        ("library.persistence.sise=1Gi", "additional properties"),
    ],
)
def test_helm_refuses_storage_values_the_schema_rejects(
    helm: Path, setting: str, complaint: str
) -> None:
    refused = render(helm, setting, check=False)
    assert refused.returncode != 0
    assert complaint in refused.stderr


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("library", "persistence", "size"), "-1Gi"),
        (("library", "persistence", "size"), "0Gi"),
        (("records", "persistence", "size"), "20GB"),
        (("records", "persistence", "size"), 20),
        (("records", "persistence", "accessMode"), "ReadWriteSometimes"),
        (("records", "persistence", "storageClass"), "Fast SSD"),
        (("records", "retentionDays"), 0.5),
        (("library", "persistence", "existingClaim"), "Not_A_Name"),
        (("library", "seedSamples"), "yes"),
    ],
)
def test_the_schema_rejects_bad_storage_values(path: tuple[str, ...], value: object) -> None:
    assert schema_rejects(path, value)


@pytest.mark.parametrize(
    "where", [("library",), ("library", "persistence"), ("records",), ("records", "persistence")]
)
def test_the_schema_rejects_unknown_storage_keys(where: tuple[str, ...]) -> None:
    complaint = schema_complaint_about_an_extra_key(where)
    assert complaint is not None
    assert "Additional properties" in complaint


@pytest.mark.parametrize("size", ["1Gi", "500Mi", "1.5Ti", "0.5Gi", "100G"])
def test_the_schema_accepts_kubernetes_storage_quantities(size: str) -> None:
    good = values()
    good["records"]["persistence"]["size"] = size
    errors = jsonschema.Draft7Validator(schema()).iter_errors(good)

    assert [error.message for error in errors] == []
