"""Argo Rollouts in the test bed: its CRDs and its real controller, so a Rollout's health comes
from Argo itself (phase Healthy / Degraded), exactly as it would in a cluster.

The controller runs out of cluster with the admin kubeconfig (it is a third party here, not the
code under test), without leader election, and on loopback ports of its own.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from pathlib import Path

from kubernetes import client

from tests.testbed import binaries, cluster, procs

NAME = "argo-rollouts"
CRD_SUFFIX = "-crd.yaml"
ROLLOUTS_CRD = "rollouts.argoproj.io"


def install_crds(kubectl: Path, kubeconfig: Path) -> list[str]:
    folder = binaries.module_files(binaries.ARGO_ROLLOUTS, "crds")
    files = sorted(folder.glob(f"*{CRD_SUFFIX}"))
    argv = [str(kubectl), "apply", "--server-side", "--force-conflicts"]
    for file in files:
        argv += ["-f", str(file)]
    result = subprocess.run(
        argv,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise procs.TestbedError(f"installing the Argo Rollouts CRDs failed:\n{result.stderr}")
    return [f.name for f in files]


def _established(kubeconfig: Path) -> bool:
    crd = client.ApiextensionsV1Api(cluster.api(kubeconfig)).read_custom_resource_definition(
        ROLLOUTS_CRD
    )
    return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])


def start(state_dir: Path, kubectl: Path, kubeconfig: Path) -> procs.Daemon:
    install_crds(kubectl, kubeconfig)
    procs.wait_for(state_dir, NAME, lambda: _established(kubeconfig), timeout=30)
    healthz = procs.free_port()
    proc = procs.start(
        state_dir,
        NAME,
        [
            str(binaries.require(binaries.ARGO_ROLLOUTS)),
            f"--kubeconfig={kubeconfig}",
            "--leader-elect=false",
            f"--healthzPort={healthz}",
            f"--metricsPort={procs.free_port()}",
            "--namespace=testbed-system",
            "--rollout-threads=4",
            "--loglevel=info",
        ],
    )

    def healthy() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{healthz}/healthz", timeout=2) as resp:
            return bool(resp.status == 200)

    procs.wait_for(state_dir, NAME, healthy, timeout=60, proc=proc)
    return proc
