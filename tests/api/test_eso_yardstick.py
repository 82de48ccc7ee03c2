"""ESO's own CRDs as the yardstick for ours, on the real apiserver.

ESO's CRDs (from its Go module, the release the test bed runs) are installed into a throwaway
group beside ours. For every kind and served version, objects generated from ESO's schema
(maximal ones, one per provider / generator) that ESO's CRDs accept are sent to ours by
server-side dry run: ours must accept them, return every field unchanged, and add nothing that
ESO's own answer lacks (no default of ours that ESO does not have)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from secretsync.api.crds import all_crds
from tests.api import eso_samples
from tests.testbed import eso_crds
from tests.testbed.cluster import apply_crds

# ESO v0.16.2's CRDs (names only, to parametrize by; test_the_yardstick_is_complete checks it).
ESO_CRDS = (
    "acraccesstokens.generators.external-secrets.io",
    "clusterexternalsecrets.external-secrets.io",
    "clustergenerators.generators.external-secrets.io",
    "clusterpushsecrets.external-secrets.io",
    "clustersecretstores.external-secrets.io",
    "ecrauthorizationtokens.generators.external-secrets.io",
    "externalsecrets.external-secrets.io",
    "fakes.generators.external-secrets.io",
    "gcraccesstokens.generators.external-secrets.io",
    "generatorstates.generators.external-secrets.io",
    "githubaccesstokens.generators.external-secrets.io",
    "grafanas.generators.external-secrets.io",
    "passwords.generators.external-secrets.io",
    "pushsecrets.external-secrets.io",
    "quayaccesstokens.generators.external-secrets.io",
    "secretstores.external-secrets.io",
    "stssessiontokens.generators.external-secrets.io",
    "uuids.generators.external-secrets.io",
    "vaultdynamicsecrets.generators.external-secrets.io",
    "webhooks.generators.external-secrets.io",
)
DROP_ATTEMPTS = 60

# The renamed CRDs are cluster-wide and this module's fixture deletes them when it is done: each
# xdist worker installs copies of its own, so that no worker's teardown pulls them from another.
OWNER = os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="module")
def eso(kube_api: client.ApiClient) -> Iterator[dict[str, dict[str, Any]]]:
    """ESO's CRDs by name (as ESO ships them); their renamed copies and ours are installed."""
    ext = client.ApiextensionsV1Api(kube_api)
    shipped = {crd["metadata"]["name"]: crd for crd in eso_crds.crds()}
    yardstick = [eso_crds.renamed(crd, OWNER) for crd in shipped.values()]
    apply_crds(kube_api, [*all_crds(), *yardstick])
    yield shipped
    for crd in yardstick:
        ext.delete_custom_resource_definition(crd["metadata"]["name"])


def test_the_yardstick_is_complete(eso: dict[str, dict[str, Any]]) -> None:
    assert sorted(eso) == sorted(ESO_CRDS)


def _create(
    custom: client.CustomObjectsApi, crd: dict[str, Any], version: str, body: dict[str, Any]
) -> dict[str, Any]:
    group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
    namespace = body["metadata"].get("namespace")
    if namespace:
        created = custom.create_namespaced_custom_object(
            group, version, namespace, plural, body, dry_run="All"
        )
    else:
        created = custom.create_cluster_custom_object(group, version, plural, body, dry_run="All")
    return dict(created)


def _accepted_by_eso(
    custom: client.CustomObjectsApi, crd: dict[str, Any], version: str, body: dict[str, Any]
) -> dict[str, Any]:
    """ESO's answer for `body`, after dropping (from `body`) what its schema refuses."""
    api_version = f"{crd['spec']['group']}/{version}"
    (schema,) = [
        v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"] if v["name"] == version
    ]
    for _ in range(DROP_ATTEMPTS):
        try:
            return _create(custom, crd, version, {**body, "apiVersion": api_version})
        except ApiException as exc:
            if exc.status != 422:
                raise
            causes = (eso_samples.json_body(exc.body).get("details") or {}).get("causes") or []
            fields = [c.get("field", "") for c in causes]
            if not any(eso_samples.narrow(body, f, schema) for f in fields if f.startswith("spec")):
                raise AssertionError(f"ESO's schema refuses the sample: {exc.body}") from exc
    raise AssertionError(f"ESO's schema kept refusing the sample after {DROP_ATTEMPTS} drops")


def _versions(crd: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (v["name"], v["schema"]["openAPIV3Schema"]["properties"]["spec"])
        for v in crd["spec"]["versions"]
        if v.get("served")
    ]


@pytest.mark.parametrize("name", ESO_CRDS)
def test_every_object_esos_schema_accepts_is_kept_unchanged_by_ours(
    eso: dict[str, dict[str, Any]], kube_api: client.ApiClient, namespace: str, name: str
) -> None:
    custom = client.CustomObjectsApi(kube_api)
    shipped = eso[name]
    yardstick = eso_crds.renamed(shipped, OWNER)
    kind = shipped["spec"]["names"]["kind"]
    namespaced = shipped["spec"]["scope"] == "Namespaced"
    failures: list[str] = []
    checked = 0
    for version, schema in _versions(shipped):
        for label, spec in eso_samples.specs(schema):
            meta = {"name": f"y-{uuid.uuid4().hex[:8]}"}
            if namespaced:
                meta["namespace"] = namespace
            body = {"kind": kind, "metadata": meta, "spec": spec}
            theirs = _accepted_by_eso(custom, yardstick, version, body)
            try:
                ours = _create(
                    custom,
                    shipped,
                    version,
                    {**body, "apiVersion": f"{shipped['spec']['group']}/{version}"},
                )
            except ApiException as exc:
                failures.append(f"{version} {label}: refused by ours: {exc.body}")
                continue
            checked += 1
            for problem in eso_samples.missing_or_changed(body["spec"], ours.get("spec")):
                failures.append(f"{version} {label}: not kept: spec.{problem}")
            for problem in eso_samples.missing_or_changed(ours.get("spec"), theirs.get("spec")):
                failures.append(f"{version} {label}: ours adds: spec.{problem}")
    assert failures == [], "\n".join(failures)
    assert checked >= len(_versions(shipped)), checked
