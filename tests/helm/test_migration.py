"""What `helm uninstall` of ESO does to CRDs that secretsync's chart is to take over, with the
real helm on the test bed; docs/migrating.md ("CRD ownership") gives the procedure this proves.

ESO's packaged chart is out of reach here, so each test writes a stand-in shaped like it: CRD
templates behind `installCRDs`, whose metadata takes `crds.annotations`. A second stand-in plays
secretsync's chart: the same CRDs as templates that always carry `helm.sh/resource-policy: keep`,
installed with `--take-ownership`. The CRDs use a throwaway group per test, so the real
external-secrets.io CRDs other tests use are never touched.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secretsync.sops.yamlplain import load_documents
from tests.helm import chart
from tests.helm.conftest import Kubectl
from tests.operator.harness import eventually
from tests.testbed import stack

RUN_LABEL = "secretsync.test/migration-run"
KINDS = ("Widget", "Gadget")

# {annotations} is where each stand-in puts its CRD annotations: ESO's takes them from values.
CRD_TEMPLATE = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{group}
  labels:
    {label}: "{run}"
  annotations:
    migration.test/kind: {kind}{annotations}
spec:
  group: {group}
  scope: Namespaced
  names:
    kind: {kind}
    listKind: {kind}List
    plural: {plural}
    singular: {singular}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"""
FROM_VALUES = """
    {{- with .Values.crds.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}"""
ALWAYS_KEEP = """
    helm.sh/resource-policy: keep"""


@dataclass
class Bed:
    """One test's throwaway CRD group, its two charts and releases, and how to reach them."""

    testbed: stack.Testbed
    kubectl: Kubectl
    folder: Path
    run: str
    eso_namespace: str
    ours_namespace: str

    @property
    def group(self) -> str:
        return f"migration-{self.run}.test"

    @property
    def eso(self) -> str:
        return f"eso-{self.run}"

    @property
    def ours(self) -> str:
        return f"ours-{self.run}"

    def crd_names(self) -> list[str]:
        return [f"{kind.lower()}s.{self.group}" for kind in KINDS]

    def write_chart(self, name: str, annotations: str, gated: bool) -> Path:
        folder = self.folder / name
        (folder / "templates").mkdir(parents=True)
        (folder / "Chart.yaml").write_text(
            json.dumps({"apiVersion": "v2", "name": name, "version": "0.1.0"})
        )
        (folder / "values.yaml").write_text(
            json.dumps({"installCRDs": True, "crds": {"annotations": {}}})
        )
        for kind in KINDS:
            crd = CRD_TEMPLATE.format(
                group=self.group,
                kind=kind,
                plural=f"{kind.lower()}s",
                singular=kind.lower(),
                label=RUN_LABEL,
                run=self.run,
                annotations=annotations,
            )
            if gated:
                crd = "{{- if .Values.installCRDs }}\n" + crd + "{{- end }}\n"
            (folder / "templates" / f"{kind.lower()}.yaml").write_text(crd)
        return folder

    def helm(self, *args: str) -> str:
        return chart.run_helm(*args, kubeconfig=self.testbed.KUBECONFIG)

    def install_eso(self) -> None:
        self.helm("install", self.eso, str(self.folder / "eso"), "-n", self.eso_namespace)
        self.kubectl(
            "wait", "--for=condition=Established", "--timeout=30s",
            *(f"crd/{name}" for name in self.crd_names()),
        )  # fmt: skip

    def create_widget(self, namespace: str) -> None:
        """A user's object, and a Secret it owns as an ExternalSecret owns its target."""
        widget = {
            "apiVersion": f"{self.group}/v1",
            "kind": "Widget",
            "metadata": {"name": "kept-data", "namespace": namespace},
            "spec": {"anything": "a user's object"},
        }
        made = json.loads(
            self.kubectl("create", "-f", "-", "-o", "json", stdin=json.dumps(widget)).stdout
        )
        owner = {
            "apiVersion": f"{self.group}/v1",
            "kind": "Widget",
            "name": "kept-data",
            "uid": made["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        target = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "kept-data", "namespace": namespace, "ownerReferences": [owner]},
        }
        self.kubectl("create", "-f", "-", stdin=json.dumps(target))

    def owned_secret_exists(self, namespace: str) -> bool:
        result = self.kubectl("get", "secret", "kept-data", "-n", namespace, check=False)
        assert result.returncode == 0 or "NotFound" in result.stderr, result.stderr
        return result.returncode == 0

    def crd(self, name: str) -> dict[str, Any] | None:
        result = self.kubectl("get", "crd", name, "-o", "json", check=False)
        if result.returncode != 0:
            assert "NotFound" in result.stderr, result.stderr
            return None
        found: dict[str, Any] = json.loads(result.stdout)
        return found

    def crds_gone(self) -> bool:
        return all(self.crd(name) is None for name in self.crd_names())

    def widgets(self, namespace: str) -> list[str]:
        listed = self.kubectl("get", f"widgets.{self.group}", "-n", namespace, "-o", "name")
        return listed.stdout.split()

    def manifest_annotations(self, release: str, namespace: str) -> list[dict[str, str]]:
        """Each CRD's annotations in the release's manifest: what uninstall goes by."""
        text = self.helm("get", "manifest", release, "-n", namespace)
        documents = [d for d in load_documents(text, "helm get manifest") if d]
        return [
            d["metadata"].get("annotations") or {}
            for d in documents
            if d["kind"] == "CustomResourceDefinition"
        ]


@pytest.fixture
def bed(
    installed: stack.Testbed,
    kubectl: Kubectl,
    make_namespace: Callable[[], str],
    tmp_path: Path,
) -> Iterator[Bed]:
    found = Bed(
        installed, kubectl, tmp_path, uuid.uuid4().hex[:8], make_namespace(), make_namespace()
    )
    found.write_chart("eso", FROM_VALUES, gated=True)
    found.write_chart("ours", ALWAYS_KEEP, gated=False)
    try:
        yield found
    finally:
        for release, namespace in (
            (found.eso, found.eso_namespace),
            (found.ours, found.ours_namespace),
        ):
            chart.run_helm(
                "uninstall", release, "-n", namespace, "--ignore-not-found",
                kubeconfig=installed.KUBECONFIG, check=False,
            )  # fmt: skip
        kubectl("delete", "crd", "-l", f"{RUN_LABEL}={found.run}", "--wait=false", check=False)


def test_a_keep_annotation_added_to_the_live_crds_does_not_stop_uninstall(bed: Bed) -> None:
    """The advice this repository used to give: it loses every object of those kinds."""
    bed.install_eso()
    bed.create_widget(bed.eso_namespace)
    for name in bed.crd_names():
        bed.kubectl("annotate", "crd", name, "helm.sh/resource-policy=keep", "--overwrite")
        live = bed.crd(name) or {}
        assert live["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert all("helm.sh/resource-policy" not in a for a in bed.manifest_annotations(
        bed.eso, bed.eso_namespace
    ))  # fmt: skip

    said = bed.helm("uninstall", bed.eso, "-n", bed.eso_namespace)

    assert "kept due to the resource policy" not in said
    eventually(bed.crds_gone, 60, "the CRDs deleted")
    # The objects went with their CRD. What they owned is left dangling for the garbage
    # collector, which finds an owner whose kind is gone only after its discovery resync and a
    # retry backoff that grows past minutes under load, so the test does not wait for that.
    # Defining the kind again brings back nothing.
    bed.helm("install", bed.eso, str(bed.folder / "eso"), "-n", bed.eso_namespace)
    bed.kubectl("wait", "--for=condition=Established", "--timeout=30s", f"crd/{bed.crd_names()[0]}")
    assert bed.widgets(bed.eso_namespace) == []


def test_keep_set_through_the_release_values_survives_uninstall(bed: Bed) -> None:
    bed.install_eso()
    bed.create_widget(bed.eso_namespace)

    bed.helm(
        "upgrade", bed.eso, str(bed.folder / "eso"), "-n", bed.eso_namespace, "--reuse-values",
        "--set-string", r"crds.annotations.helm\.sh/resource-policy=keep",
    )  # fmt: skip
    annotations = bed.manifest_annotations(bed.eso, bed.eso_namespace)
    assert len(annotations) == len(KINDS)
    assert all(a.get("helm.sh/resource-policy") == "keep" for a in annotations)

    said = bed.helm("uninstall", bed.eso, "-n", bed.eso_namespace)

    assert "kept due to the resource policy" in said
    assert all(bed.crd(name) is not None for name in bed.crd_names())
    assert bed.widgets(bed.eso_namespace) == [f"widget.{bed.group}/kept-data"]
    assert bed.owned_secret_exists(bed.eso_namespace)


def test_crds_another_release_took_over_are_skipped_by_uninstall(bed: Bed) -> None:
    """Helm 4.3 checks ownership before it deletes (helm/helm#31584); Helm 3 and Helm 4 up to
    4.2 do not, which is why the documented procedure sets keep in ESO's release first."""
    bed.install_eso()
    bed.create_widget(bed.eso_namespace)

    bed.helm(
        "install", bed.ours, str(bed.folder / "ours"), "-n", bed.ours_namespace,
        "--take-ownership",
    )  # fmt: skip
    for name in bed.crd_names():
        annotations = (bed.crd(name) or {})["metadata"]["annotations"]
        assert annotations["meta.helm.sh/release-name"] == bed.ours
        assert annotations["meta.helm.sh/release-namespace"] == bed.ours_namespace
    # ESO's release still lists the CRDs, with no keep policy of its own.
    assert all("helm.sh/resource-policy" not in a for a in bed.manifest_annotations(
        bed.eso, bed.eso_namespace
    ))  # fmt: skip

    said = bed.helm("uninstall", bed.eso, "-n", bed.eso_namespace)

    assert f"{len(KINDS)} resource(s) were not deleted because they are not owned" in said
    assert all(bed.crd(name) is not None for name in bed.crd_names())
    assert bed.widgets(bed.eso_namespace) == [f"widget.{bed.group}/kept-data"]
    assert bed.owned_secret_exists(bed.eso_namespace)


def test_an_upgrade_that_drops_the_crds_reads_the_live_keep_annotation(bed: Bed) -> None:
    """Unlike uninstall, upgrade looks at the live object: `installCRDs=false` after a
    `kubectl annotate` keeps them. The asymmetry is why the live annotation looks as if it
    worked."""
    bed.install_eso()
    bed.create_widget(bed.eso_namespace)
    for name in bed.crd_names():
        bed.kubectl("annotate", "crd", name, "helm.sh/resource-policy=keep", "--overwrite")

    bed.helm(
        "upgrade", bed.eso, str(bed.folder / "eso"), "-n", bed.eso_namespace, "--reuse-values",
        "--set", "installCRDs=false",
    )  # fmt: skip

    assert bed.manifest_annotations(bed.eso, bed.eso_namespace) == []
    assert all(bed.crd(name) is not None for name in bed.crd_names())
    assert bed.widgets(bed.eso_namespace) == [f"widget.{bed.group}/kept-data"]
    assert bed.owned_secret_exists(bed.eso_namespace)
