"""The real External Secrets Operator (v0.16.2, built from the Go module proxy) beside
secretsync: started on demand by a fixture, never part of the shared stack's `up`.

It runs out of cluster with a kubeconfig (the admin one by default: it is a third party here,
not the code under test), without leader election, with its metrics on a free loopback port, and
only its controller (the webhook and cert-controller are subcommands we never run). The shared
test bed serves other tests at the same time, so by default it is confined to one namespace
(`--namespace`) and its cluster-scoped reconcilers (ClusterSecretStore, ClusterExternalSecret,
ClusterPushSecret) are off: it must never write on another test's objects.

CRDs: our crds/ replace ESO's on the test bed and are never replaced here. ESO's controller also
watches kinds we may not serve yet (GeneratorState has no flag to turn its reconciler off);
those are created from our crds/ when present there, else from ESO's own bundle, one kind at a
time and only when the apiserver lacks them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kubernetes import client

from tests.testbed import binaries, cluster, paths, peer, procs

NAME = "external-secrets"
OURS = paths.REPO_ROOT / "crds"
NEEDED_CRDS = (
    "externalsecrets.external-secrets.io",
    "secretstores.external-secrets.io",
    "generatorstates.generators.external-secrets.io",
)
"""What the controllers we run watch (ExternalSecret, SecretStore, GeneratorState)."""

OFF_BY_DEFAULT = (
    "--enable-cluster-store-reconciler=false",
    "--enable-cluster-external-secret-reconciler=false",
    "--enable-cluster-push-secret-reconciler=false",
    "--enable-push-secret-reconciler=false",
)
FIELD_MANAGER_PREFIX = "externalsecrets.external-secrets.io/"
"""ESO writes a Secret as `externalsecrets.external-secrets.io/<ExternalSecret name>`."""


@dataclasses.dataclass(frozen=True)
class Eso:
    folder: Path
    pid: int
    metrics_url: str
    controller_class: str

    def log(self) -> str:
        return peer.log(self.folder, NAME)

    def metrics(self) -> str:
        return peer.metrics(self.metrics_url)


def binary() -> Path:
    """The built controller; a TestbedError naming the install command when it is not built."""
    return binaries.require(binaries.ESO)


def _crd_names(kubeconfig: Path) -> set[str]:
    api = client.ApiextensionsV1Api(cluster.api(kubeconfig))
    return {crd.metadata.name for crd in api.list_custom_resource_definition().items}


def _bundle_document(name: str) -> str:
    """One CRD out of ESO's bundle.yaml, as text (the documents are separated by `---`)."""
    bundle = binaries.module_files(binaries.ESO, "crds") / "bundle.yaml"
    for document in bundle.read_text().split("\n---\n"):
        if f"\n  name: {name}\n" in document:
            return document
    raise procs.TestbedError(f"ESO's bundle.yaml has no CRD {name}")


def install_missing_crds(kubectl: Path, kubeconfig: Path, folder: Path) -> list[str]:
    """Create the CRDs ESO's controller needs and the apiserver lacks; returns their names.
    `kubectl create`, never apply: an existing CRD (ours) is never replaced."""
    missing = [name for name in NEEDED_CRDS if name not in _crd_names(kubeconfig)]
    for name in missing:
        ours = OURS / f"{name}.yaml"
        text = ours.read_text() if ours.exists() else _bundle_document(name)
        result = subprocess.run(
            [str(kubectl), "create", "-f", "-"],
            input=text,
            env={**os.environ, "KUBECONFIG": str(kubeconfig)},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 and "AlreadyExists" not in result.stderr:
            raise procs.TestbedError(f"creating the CRD {name} failed:\n{result.stderr}")
    procs.wait_for(
        folder,
        "CRDs for ESO",
        lambda: _established(kubeconfig, NEEDED_CRDS),
        timeout=30,
    )
    return missing


def _established(kubeconfig: Path, names: Sequence[str]) -> bool:
    api = client.ApiextensionsV1Api(cluster.api(kubeconfig))
    for name in names:
        crd = api.read_custom_resource_definition(name)
        conditions = crd.status.conditions or []
        if not any(c.type == "Established" and c.status == "True" for c in conditions):
            return False
    return True


def start(
    folder: Path,
    kubeconfig: Path,
    *,
    controller_class: str,
    namespace: str,
    extra_args: Sequence[str] = (),
) -> Eso:
    """Start ESO's controller and wait until its ExternalSecret workers run."""
    folder.mkdir(parents=True, exist_ok=True)
    port = procs.free_port()
    argv = [
        str(binary()),
        f"--controller-class={controller_class}",
        "--enable-leader-election=false",
        f"--metrics-addr=127.0.0.1:{port}",
        f"--namespace={namespace}",
        "--concurrent=4",
        "--loglevel=debug",
        "--zap-time-encoding=iso8601",
        *OFF_BY_DEFAULT,
        *extra_args,
    ]
    proc = procs.start(folder, NAME, argv, env={"KUBECONFIG": str(kubeconfig)})
    eso = Eso(folder, proc.pid, f"http://127.0.0.1:{port}", controller_class)

    def running() -> bool:
        # controller-runtime logs this per controller once its caches have synced.
        return any(
            "Starting workers" in line and '"externalsecret"' in line
            for line in eso.log().splitlines()
        )

    procs.wait_for(folder, NAME, running, timeout=90, proc=proc)
    return eso


def stop(eso: Eso) -> None:
    procs.stop_all(eso.folder, grace=10)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(eso.pid, 0)
