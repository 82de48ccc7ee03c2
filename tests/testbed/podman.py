"""The operator image under podman: built by scripts/image.sh (the code path of `make image`) and
run with the repository's private containers.conf (runc, ulimits these machines allow)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.testbed import paths
from tests.testbed.procs import TestbedError

INSTALL_HINT = (
    "run `make bootstrap` (it installs podman, buildah, mmdebstrap, runc, skopeo and uidmap: "
    "apt-get install -y podman buildah mmdebstrap runc skopeo uidmap)"
)
CONTAINERS_CONF = paths.REPO_ROOT / "deploy" / "image" / "containers.conf"
BUILD_SCRIPT = paths.REPO_ROOT / "scripts" / "image.sh"
TOOLS = ("podman", "mmdebstrap", "skopeo")
BUILD_TIMEOUT = 1200  # a cold build runs mmdebstrap and downloads every wheel once


def version() -> str:
    with (paths.REPO_ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def reference() -> str:
    return f"ghcr.io/secretsync/secretsync:{version()}"


def archive() -> Path:
    return paths.REPO_ROOT / "dist" / f"secretsync-{version()}.oci.tar"


def environment() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def require() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise TestbedError(f"{', '.join(missing)} not found: {INSTALL_HINT}")


def build() -> str:
    """The image as `make image` builds it: a no-op of about a second when nothing changed,
    a rebuild when the code, the lock or the recipe did. Returns its reference."""
    require()
    # The script takes a per-user lock itself, so xdist workers and `make image` never overlap.
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        capture_output=True,
        text=True,
        env={**environment(), "PYTHON": sys.executable},
        cwd=paths.REPO_ROOT,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise TestbedError(f"scripts/image.sh failed:\n{result.stderr[-4000:]}")
    return reference()


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["podman", *args], capture_output=True, text=True, env=environment(), check=False
    )
    if check and result.returncode != 0:
        raise TestbedError(f"podman {args[0]} failed: {result.stderr.strip()[-2000:]}")
    return result


@dataclasses.dataclass(frozen=True)
class Container:
    name: str

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def running(self) -> bool:
        state = podman("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return state.stdout.strip() == "true"

    def stop(self, grace_seconds: int) -> int:
        """SIGTERM, then SIGKILL once the grace period is over (as the kubelet does); returns
        the exit code, which is 137 when the grace period was not enough."""
        podman("stop", "--time", str(grace_seconds), self.name, check=False)
        code = podman("inspect", "--format", "{{.State.ExitCode}}", self.name)
        return int(code.stdout.strip())

    def remove(self) -> None:
        podman("rm", "--force", "--time", "0", self.name, check=False)


def run_detached(name: str, options: list[str], image: str, command: list[str]) -> Container:
    podman("run", "--detach", "--name", name, *options, image, *command)
    return Container(name)
