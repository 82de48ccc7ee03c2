"""What ESO defines and secretsync does not implement, through the real operator on its own
ServiceAccount: the object is Ready=False with reason Unsupported, naming the field and what to
use instead, with exactly one Warning Event however often it is looked at again, and the Secret
of that name (ESO's, during a migration) is left exactly as it was."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition, store_ready, unique, vault, vault_store
from tests.testbed import stack

Start = Callable[..., Operator]
ESO_LABELS = {"reconcile.external-secrets.io/managed": "true"}


def _syncs(operator: Operator) -> int:
    found = re.search(r"^secretsync_syncs_performed_total (\d+)", operator.metrics(), re.M)
    return int(found.group(1)) if found else 0


def _warnings(kube: Cluster, name: str, reason: str = "Unsupported") -> list[Any]:
    return [e for e in kube.events(name) if e.reason == reason and e.type == "Warning"]


def _es(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    target = {**(spec.get("target") or {}), "name": name}
    return {
        "kind": "ExternalSecret",
        "metadata": {"name": name},
        "spec": {"refreshInterval": "10s", **spec, "target": target},
    }


def _gcp_store(kube: Cluster) -> None:
    kube.apply(
        "secretstores",
        {
            "kind": "SecretStore",
            "metadata": {"name": "gcp"},
            "spec": {
                "provider": {
                    "gcpsm": {
                        "projectID": "p",
                        "auth": {"secretRef": {"secretAccessKeySecretRef": {"name": "gcp"}}},
                    }
                }
            },
        },
    )


CASES = {
    "an unimplemented provider": (
        {
            "secretStoreRef": {"name": "gcp"},
            "data": [{"secretKey": "pw", "remoteRef": {"key": "k"}}],
        },
        "SecretStore gcp: spec.provider.gcpsm: is not supported by secretsync; "
        "use vault, aws or sops",
    ),
    "a generator secretsync does not run": (
        {
            "secretStoreRef": {"name": "vault"},
            "dataFrom": [
                {
                    "sourceRef": {
                        "generatorRef": {
                            "apiVersion": "generators.external-secrets.io/v1alpha1",
                            "kind": "Webhook",
                            "name": "pw",
                        }
                    }
                }
            ],
        },
        "spec.dataFrom[0].sourceRef.generatorRef.kind: 'Webhook' is not supported by "
        "secretsync; secretsync does not run Webhook generators yet",
    ),
    "an unimplemented field": (
        {
            "secretStoreRef": {"name": "vault"},
            "target": {"template": {"metadata": {"finalizers": ["example.com/keep"]}}},
            "data": [{"secretKey": "pw", "remoteRef": {"key": "k"}}],
        },
        "spec.target.template.metadata.finalizers: is not supported by secretsync",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_unsupported_external_secret_is_reported_once_and_its_secret_left_alone(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start, case: str
) -> None:
    spec, expected = CASES[case]
    name = unique("es")
    _gcp_store(kube)
    vault_store(kube, testbed)
    kube.put_secret(name, {"pw": "left-by-eso"}, labels=ESO_LABELS)
    before = kube.secret(name)
    assert before is not None
    kube.apply("externalsecrets", _es(name, spec))
    operator = start_operator()

    ready = condition(kube, name, "False", "Unsupported")
    assert ready["message"].startswith(expected)
    eventually(lambda: len(_warnings(kube, name)) == 1, what="the Warning Event")

    # Looked at again, and again: a label (a sync), the store changing, a restart.
    for attempt in range(3):
        seen = _syncs(operator)
        kube.patch_es(name, {"metadata": {"labels": {"looked-at": str(attempt)}}})
        eventually(lambda s=seen: _syncs(operator) > s, what="a sync after the label")
    seen = _syncs(operator)
    kube.custom.patch_namespaced_custom_object(
        "external-secrets.io", "v1", kube.namespace, "secretstores",
        spec["secretStoreRef"]["name"], {"metadata": {"labels": {"touched": "yes"}}},
    )  # fmt: skip
    eventually(lambda: _syncs(operator) > seen, what="a sync after its store changed")
    operator.stop()
    restarted = start_operator()
    eventually(lambda: _syncs(restarted) >= 1, what="a sync after the restart")
    time.sleep(2)  # room for a stray Event to be posted

    assert [e.message for e in _warnings(kube, name)] == [ready["message"]]
    assert kube.ready(name) == ready  # not rewritten, not even its lastTransitionTime
    after = kube.secret(name)
    assert after is not None
    assert after.metadata.resource_version == before.metadata.resource_version
    assert kube.data(name) == {"pw": b"left-by-eso"}


def test_an_unsupported_store_says_so_on_itself_once(kube: Cluster, start_operator: Start) -> None:
    _gcp_store(kube)
    operator = start_operator()

    ready = eventually(lambda: store_ready(kube, "secretstores", "gcp"), what="store status")
    assert (ready["status"], ready["reason"]) == ("False", "Unsupported")
    assert ready["message"] == (
        "spec.provider.gcpsm: is not supported by secretsync; use vault, aws or sops"
    )
    eventually(lambda: len(_warnings(kube, "gcp")) == 1, what="the store's Warning Event")
    for attempt in range(3):
        kube.custom.patch_namespaced_custom_object(
            "external-secrets.io", "v1", kube.namespace, "secretstores", "gcp",
            {"metadata": {"labels": {"looked-at": str(attempt)}}},
        )  # fmt: skip
    operator.stop()
    start_operator()
    time.sleep(3)
    assert len(_warnings(kube, "gcp")) == 1
    assert store_ready(kube, "secretstores", "gcp") == ready


def test_a_spec_edited_to_something_supported_syncs(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key = unique("unsupported")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"pw": "from-vault"})
    vault_store(kube, testbed)
    spec, _ = CASES["a generator secretsync does not run"]
    kube.apply("externalsecrets", _es("edited", spec))
    start_operator()
    condition(kube, "edited", "False", "Unsupported")
    assert kube.secret("edited") is None  # nothing created for it either

    kube.patch_es("edited", {"spec": {"dataFrom": [{"extract": {"key": key}}]}})

    condition(kube, "edited", "True", "SecretSynced")
    assert kube.data("edited") == {"pw": b"from-vault"}


def _push_secret(kube: Cluster, name: str, store: str) -> None:
    spec = {
        "secretStoreRefs": [{"name": store, "kind": "SecretStore"}],
        "selector": {"secret": {"name": "source"}},
        "data": [{"match": {"secretKey": "pw", "remoteRef": {"remoteKey": "pushed"}}}],
    }
    kube.apply(
        "pushsecrets", {"kind": "PushSecret", "metadata": {"name": name}, "spec": spec}, "v1alpha1"
    )


def _push_status(kube: Cluster, name: str) -> dict[str, Any]:
    found = kube.custom.get_namespaced_custom_object(
        "external-secrets.io", "v1alpha1", kube.namespace, "pushsecrets", name
    )
    return dict(found.get("status") or {})


def test_a_push_secret_of_ours_is_run_and_another_classes_is_left_alone(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    vault_store(kube, testbed)  # no class: everyone's, so ours too
    vault_store(kube, testbed, name="eso-vault", controller="eso")
    _push_secret(kube, "ours", "vault")
    _push_secret(kube, "theirs", "eso-vault")
    operator = start_operator()

    status = eventually(lambda: _push_status(kube, "ours"), what="the PushSecret's status")
    [ready] = status["conditions"]
    # Its source Secret does not exist: ours says so (ESO's reason); ESO's is not touched.
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "False", "Errored")
    assert ready["message"] == f"Secret {kube.namespace}/source does not exist"
    eventually(lambda: len(_warnings(kube, "ours", "Errored")) == 1, what="the Warning Event")
    operator.stop()
    start_operator()
    for name in ("ours", "theirs"):  # looked at again by the new process
        kube.custom.patch_namespaced_custom_object(
            "external-secrets.io", "v1alpha1", kube.namespace, "pushsecrets", name,
            {"metadata": {"labels": {"looked-at": "again"}}},
        )  # fmt: skip
    time.sleep(3)  # room for a stray status write or Event

    assert len(_warnings(kube, "ours", "Errored")) == 1
    assert _push_status(kube, "ours")["conditions"] == status["conditions"]
    assert _push_status(kube, "theirs") == {}
    assert kube.events("theirs") == []


def test_a_cluster_external_secret_with_an_unsupported_template_makes_no_external_secret(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    vault_store(kube, testbed)
    spec, _ = CASES["a generator secretsync does not run"]
    name = unique("ces")
    body = {
        "kind": "ClusterExternalSecret",
        "metadata": {"name": name},
        "spec": {"namespaces": [kube.namespace], "externalSecretSpec": spec},
    }
    kube.apply("clusterexternalsecrets", body)
    try:
        start_operator()

        def ready() -> Any:
            found = kube.custom.get_cluster_custom_object(
                "external-secrets.io", "v1", "clusterexternalsecrets", name
            )
            conditions = (found.get("status") or {}).get("conditions") or []
            return next((c for c in conditions if c.get("type") == "Ready"), None)

        condition = eventually(ready, what="the ClusterExternalSecret's status")
        assert (condition["status"], condition["reason"]) == ("False", "Unsupported")
        assert condition["message"].startswith(
            "spec.externalSecretSpec.dataFrom[0].sourceRef.generatorRef.kind: "
            "'Webhook' is not supported"
        )
        listed = kube.custom.list_namespaced_custom_object(
            "external-secrets.io", "v1", kube.namespace, "externalsecrets"
        )
        assert listed["items"] == []
    finally:
        kube.custom.delete_cluster_custom_object(
            "external-secrets.io", "v1", "clusterexternalsecrets", name
        )


def test_a_store_that_becomes_unsupported_and_then_served_again_syncs_at_once(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key = unique("fixed-store")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"pw": "from-vault"})
    vault_store(kube, testbed, name="store")
    spec = {"secretStoreRef": {"name": "store"}, "dataFrom": [{"extract": {"key": key}}]}
    kube.apply("externalsecrets", _es("fixed", {**spec, "refreshInterval": "1h"}))
    start_operator()
    condition(kube, "fixed", "True", "SecretSynced")
    written = kube.secret("fixed")
    assert written is not None

    def provider(new: dict[str, Any]) -> None:
        kube.custom.patch_namespaced_custom_object(
            "external-secrets.io", "v1", kube.namespace, "secretstores", "store",
            {"spec": {"provider": new}},
        )  # fmt: skip

    served = kube.custom.get_namespaced_custom_object(
        "external-secrets.io", "v1", kube.namespace, "secretstores", "store"
    )["spec"]["provider"]
    provider({"vault": None, "gcpsm": {"projectID": "p"}})
    ready = condition(kube, "fixed", "False", "Unsupported")
    assert ready["message"].startswith("SecretStore store: spec.provider.gcpsm:")
    after = kube.secret("fixed")
    assert after is not None
    assert after.metadata.resource_version == written.metadata.resource_version

    provider({"gcpsm": None, **served})

    # Not due for an hour, and its Secret is valid: it syncs now because it was Unsupported.
    condition(kube, "fixed", "True", "SecretSynced")
    assert kube.data("fixed") == {"pw": b"from-vault"}
