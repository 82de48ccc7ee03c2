"""Moving a cluster from ESO to secretsync: ESO's CRDs are installed and hold objects of every kind
and provider; `kubectl apply -k deploy/` replaces the CRDs with ours. Every object reads back
unchanged, and stays unchanged when it is written again (nothing pruned). On a control plane of
its own, since it replaces the CRDs the shared test bed serves."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from secretsync.api.crds import all_crds
from tests.api import eso_samples
from tests.api.test_eso_yardstick import DROP_ATTEMPTS
from tests.testbed import binaries, cluster, eso_crds, kube, procs
from tests.testbed.cluster import wait_until
from tests.testbed.pki import CA

pytestmark = pytest.mark.testbed  # its binaries, though not the shared stack

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "migrating"


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("replacement")
    try:
        control_plane = kube.start(state, CA(state / "pki"))
        yield control_plane.kubeconfig
    finally:
        procs.stop_all(state)


def _create(api: client.ApiClient, crd: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Create `body` for real, dropping what ESO's schema refuses (as the yardstick does)."""
    custom = client.CustomObjectsApi(api)
    group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
    version = body["apiVersion"].split("/")[1]
    (schema,) = [
        v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"] if v["name"] == version
    ]
    for _ in range(DROP_ATTEMPTS):
        try:
            if crd["spec"]["scope"] == "Namespaced":
                made = custom.create_namespaced_custom_object(
                    group, version, NAMESPACE, plural, body
                )
            else:
                made = custom.create_cluster_custom_object(group, version, plural, body)
            return dict(made)
        except ApiException as exc:
            causes = (eso_samples.json_body(exc.body).get("details") or {}).get("causes") or []
            fields = [c.get("field", "") for c in causes if exc.status == 422]
            if not any(eso_samples.narrow(body, f, schema) for f in fields if f.startswith("spec")):
                raise
    raise AssertionError(f"ESO's schema kept refusing a sample after {DROP_ATTEMPTS} drops")


def _objects_under_esos_crds(api: client.ApiClient) -> list[tuple[dict[str, Any], dict]]:
    """(crd, created object) for every kind, served version and sample."""
    shipped = eso_crds.crds()
    cluster.apply_crds(api, shipped)
    _namespace(api)
    created = []
    for crd in shipped:
        for version in [v for v in crd["spec"]["versions"] if v.get("served")]:
            spec_schema = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
            for _, spec in eso_samples.specs(spec_schema):
                body = {
                    "apiVersion": f"{crd['spec']['group']}/{version['name']}",
                    "kind": crd["spec"]["names"]["kind"],
                    "metadata": {"name": f"m-{uuid.uuid4().hex[:10]}"},
                    "spec": spec,
                }
                created.append((crd, _create(api, crd, body)))
    return created


def _read(api: client.ApiClient, crd: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    custom = client.CustomObjectsApi(api)
    group, version = obj["apiVersion"].split("/")
    plural, name = crd["spec"]["names"]["plural"], obj["metadata"]["name"]
    if crd["spec"]["scope"] == "Namespaced":
        return dict(custom.get_namespaced_custom_object(group, version, NAMESPACE, plural, name))
    return dict(custom.get_cluster_custom_object(group, version, plural, name))


def _touch(api: client.ApiClient, crd: dict[str, Any], obj: dict[str, Any]) -> None:
    """Write the object again (a label), so the apiserver would prune what our schema lacks."""
    custom = client.CustomObjectsApi(api)
    group, version = obj["apiVersion"].split("/")
    plural, name = crd["spec"]["names"]["plural"], obj["metadata"]["name"]
    patch = {"metadata": {"labels": {"migrated": "yes"}}}
    if crd["spec"]["scope"] == "Namespaced":
        custom.patch_namespaced_custom_object(group, version, NAMESPACE, plural, name, patch)
    else:
        custom.patch_cluster_custom_object(group, version, plural, name, patch)


def _kubectl_apply_deploy(kubeconfig: Path) -> None:
    kubectl = binaries.require(binaries.KUBECTL)
    result = subprocess.run(
        [str(kubectl), "--kubeconfig", str(kubeconfig), "apply", "-k", str(REPO / "deploy")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_replacing_esos_crds_with_ours_keeps_every_object_unchanged(own_cluster: Path) -> None:
    api = cluster.api(own_cluster)
    created = _objects_under_esos_crds(api)
    kinds = {(crd["metadata"]["name"], obj["apiVersion"]) for crd, obj in created}

    _kubectl_apply_deploy(own_cluster)

    ext = client.ApiextensionsV1Api(api)
    for ours in all_crds():
        raw = ext.read_custom_resource_definition(ours["metadata"]["name"], _preload_content=False)
        live = json.loads(raw.data)
        # Ours, not a merge of ESO's and ours: every schema is exactly the one we ship.
        assert live["spec"]["versions"] == ours["spec"]["versions"]
    changed = []
    for crd, obj in created:
        if _read(api, crd, obj)["spec"] != obj["spec"]:
            changed.append(f"read: {obj['apiVersion']} {obj['kind']} {obj['metadata']['name']}")
        _touch(api, crd, obj)
        after = _read(api, crd, obj)
        if after["spec"] != obj["spec"]:
            problems = eso_samples.missing_or_changed(obj["spec"], after["spec"])
            changed.append(f"written: {obj['apiVersion']} {obj['kind']}: {problems}")
        assert after["metadata"]["labels"] == {"migrated": "yes"}
    assert changed == []
    assert len(kinds) == 24  # 20 CRDs; 4 of them (ExternalSecret, stores, CES) serve v1 and v1beta1


def test_a_crd_with_esos_conversion_webhook_is_replaced_too(own_cluster: Path) -> None:
    """ESO's Helm chart could set a conversion webhook on its CRDs; ours convert nothing, and
    the apiserver refuses strategy None beside a webhook left over from a merge."""
    api = cluster.api(own_cluster)
    ext = client.ApiextensionsV1Api(api)
    name = "externalsecrets.external-secrets.io"
    (shipped,) = [crd for crd in eso_crds.crds() if crd["metadata"]["name"] == name]
    shipped["spec"]["conversion"] = {
        "strategy": "Webhook",
        "webhook": {
            "conversionReviewVersions": ["v1"],
            "clientConfig": {"service": {"name": "eso-webhook", "namespace": "es", "path": "/c"}},
        },
    }
    try:
        ext.delete_custom_resource_definition(name)
        wait_until(lambda: name not in _crd_names(ext), 60, "the CRD to go")
    except ApiException as exc:
        if exc.status != 404:
            raise
    cluster.apply_crds(api, [shipped])
    _namespace(api)
    spec = {
        "secretStoreRef": {"name": "vault"},
        "data": [{"secretKey": "a", "remoteRef": {"key": "k"}}],
    }
    body = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "hooked"},
        "spec": spec,
    }
    created = _create(api, shipped, body)

    _kubectl_apply_deploy(own_cluster)

    raw = ext.read_custom_resource_definition(name, _preload_content=False)
    assert json.loads(raw.data)["spec"]["conversion"] == {"strategy": "None"}
    for version in ("v1", "v1beta1"):
        read = _read(api, shipped, {**created, "apiVersion": f"external-secrets.io/{version}"})
        assert read["spec"] == created["spec"]


def _crd_names(ext: client.ApiextensionsV1Api) -> set[str]:
    return {crd.metadata.name for crd in ext.list_custom_resource_definition().items}


def _namespace(api: client.ApiClient) -> None:
    try:
        client.CoreV1Api(api).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE))
        )
    except ApiException as exc:
        if exc.status != 409:
            raise
