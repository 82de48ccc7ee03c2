"""target.creationPolicy, deletionPolicy, immutable, type, labels/annotations and template, as
the real operator applies them to real Secrets (Vault/OpenBao as the source)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

from kubernetes import client

from secretsync.resolve.secret import DATA_HASH_ANNOTATION, MANAGED_LABEL
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition, external_secret, unique, vault, vault_store
from tests.testbed import stack

Start = Callable[..., Operator]


def _seed(testbed: stack.Testbed, **values: str) -> tuple[str, dict[str, bytes]]:
    key = unique("pol")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret=values)
    return key, {k: v.encode() for k, v in values.items()}


def _hand_edit(kube: Cluster, name: str, **values: str) -> None:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    kube.core.patch_namespaced_secret(name, kube.namespace, {"data": data})


def test_owner_adopts_an_unowned_secret_and_orphan_leaves_hand_edits_until_the_next_refresh(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key, expected = _seed(testbed, password=unique("pw"))
    vault_store(kube, testbed)
    kube.put_secret("owned-secret", {"foreign": "dropped"})  # unlabelled, no owner
    kube.apply("externalsecrets", external_secret("owned", key))
    kube.apply(
        "externalsecrets", external_secret("orphan", key, target={"creationPolicy": "Orphan"})
    )
    start_operator()

    assert eventually(lambda: kube.data("owned-secret") == expected, what="adoption")
    owned = kube.secret("owned-secret")
    assert owned is not None
    (ref,) = owned.metadata.owner_references
    assert (ref.kind, ref.name, ref.controller, ref.uid) == (
        "ExternalSecret",
        "owned",
        True,
        kube.es("owned")["metadata"]["uid"],
    )
    assert owned.metadata.labels[MANAGED_LABEL] == "true"
    assert eventually(lambda: kube.data("orphan-secret") == expected, what="orphan")
    orphan = kube.secret("orphan-secret")
    assert orphan is not None and not orphan.metadata.owner_references
    condition(kube, "orphan", "True", "SecretSynced")

    # Both are edited by hand: the owned one is healed at once, the orphan keeps the edit...
    _hand_edit(kube, "orphan-secret", password="by-hand")
    _hand_edit(kube, "owned-secret", password="by-hand")
    eventually(lambda: kube.data("owned-secret") == expected, what="the owned Secret healed")
    time.sleep(1.0)
    assert kube.data("orphan-secret") == {"password": b"by-hand"}
    # ...until its next refresh, forced here.
    kube.patch_es("orphan", {"metadata": {"annotations": {"force-sync": "1"}}})
    eventually(lambda: kube.data("orphan-secret") == expected, what="the orphan refreshed")
    orphan = kube.secret("orphan-secret")
    assert orphan is not None and not orphan.metadata.owner_references


def test_merge_waits_for_the_secret_then_keeps_foreign_keys(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key, expected = _seed(testbed, password=unique("pw"))
    vault_store(kube, testbed)
    kube.apply(
        "externalsecrets",
        external_secret("merge", key, target={"creationPolicy": "Merge"}, refreshInterval="1s"),
    )
    start_operator()
    missing = condition(kube, "merge", "True", "SecretMissing")
    assert "CreationPolicy=Merge" in missing["message"]
    assert kube.secret("merge-secret") is None

    kube.put_secret("merge-secret", {"foreign": "kept", "password": "old"})
    eventually(
        lambda: kube.data("merge-secret") == {"foreign": b"kept", **expected}, what="the merge"
    )
    condition(kube, "merge", "True", "SecretSynced")
    merged = kube.secret("merge-secret")
    assert merged is not None and not merged.metadata.owner_references
    assert merged.metadata.labels[MANAGED_LABEL] == "true"
    assert DATA_HASH_ANNOTATION in merged.metadata.annotations


def test_creation_policy_none_writes_nothing(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key, _ = _seed(testbed, password=unique("pw"))
    vault_store(kube, testbed)
    kube.put_secret("existing-secret", {"mine": "untouched"})
    kube.apply("externalsecrets", external_secret("none", key, target={"creationPolicy": "None"}))
    kube.apply(
        "externalsecrets",
        external_secret(
            "existing", key, target={"creationPolicy": "None", "name": "existing-secret"}
        ),
    )
    start_operator()
    condition(kube, "none", "True", "SecretSynced")
    condition(kube, "existing", "True", "SecretSynced")
    assert kube.secret("none-secret") is None
    existing = kube.secret("existing-secret")
    assert existing is not None
    assert kube.data("existing-secret") == {"mine": b"untouched"}
    assert not existing.metadata.labels and not existing.metadata.annotations


def test_deletion_policies_when_the_remote_key_disappears(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    bao = vault(testbed)
    gone, _ = _seed(testbed, password=unique("pw"))
    stays, _ = _seed(testbed, user="admin")
    vault_store(kube, testbed)

    def es(name: str, policy: str) -> dict[str, object]:
        body = external_secret(name, gone, target={"deletionPolicy": policy}, refreshInterval="1s")
        body["spec"]["dataFrom"].append({"extract": {"key": stays}})  # type: ignore[index]
        if policy == "Delete":
            body["spec"]["dataFrom"].pop()  # type: ignore[index]
        return body

    for name, policy in (("delete", "Delete"), ("merge", "Merge"), ("retain", "Retain")):
        kube.apply("externalsecrets", es(name, policy))
    start_operator()
    for name in ("delete", "merge", "retain"):
        condition(kube, name, "True", "SecretSynced")
    retained = kube.data("retain-secret")
    assert (
        kube.data("merge-secret") == retained
        and retained
        and set(retained)
        == {
            "password",
            "user",
        }
    )

    bao.secrets.kv.v2.delete_metadata_and_all_versions(gone)
    deleted = condition(kube, "delete", "True", "SecretDeleted")
    assert "DeletionPolicy=Delete" in deleted["message"]
    assert kube.secret("delete-secret") is None
    eventually(lambda: kube.data("merge-secret") == {"user": b"admin"}, what="merge drops")
    condition(kube, "merge", "True", "SecretSynced")
    skipped = eventually(
        lambda: [e for e in kube.events("merge") if e.reason == "MissingProviderSecret"],
        what="the MissingProviderSecret Event",
    )
    assert skipped[0].type == "Normal"
    assert gone in skipped[0].message and "SecretStore vault" in skipped[0].message
    failed = condition(kube, "retain", "False", "SecretSyncedError")
    assert gone in failed["message"]
    assert kube.data("retain-secret") == retained, "Retain keeps the Secret as it was"


def test_an_immutable_secret_is_never_changed(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key, expected = _seed(testbed, password=unique("pw"))
    vault_store(kube, testbed)
    kube.apply(
        "externalsecrets",
        external_secret("frozen", key, target={"immutable": True}, refreshInterval="1s"),
    )
    start_operator()
    assert eventually(lambda: kube.data("frozen-secret") == expected)
    secret = kube.secret("frozen-secret")
    assert secret is not None and secret.immutable is True
    version = secret.metadata.resource_version

    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": "rotated"})
    failed = condition(kube, "frozen", "False", "SecretSyncedError")
    assert "target is immutable" in failed["message"]
    after = kube.secret("frozen-secret")
    assert after is not None and after.metadata.resource_version == version
    assert kube.data("frozen-secret") == expected


def test_labels_and_annotations_are_copied_without_a_template_and_not_with_one(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key, expected = _seed(testbed, password=unique("pw"))
    vault_store(kube, testbed)
    metadata = {"labels": {"team": "a"}, "annotations": {"note": "copied"}}
    kube.apply("externalsecrets", external_secret("plain", key, metadata=metadata))
    template = {"metadata": {"labels": {"tier": "db"}, "annotations": {"from": "template"}}}
    kube.apply(
        "externalsecrets",
        external_secret("templated", key, metadata=metadata, target={"template": template}),
    )
    start_operator()
    plain = eventually(lambda: kube.secret("plain-secret"))
    assert plain.metadata.labels == {"team": "a", MANAGED_LABEL: "true"}
    assert plain.metadata.annotations["note"] == "copied"
    templated = eventually(lambda: kube.secret("templated-secret"))
    assert templated.metadata.labels == {"tier": "db", MANAGED_LABEL: "true"}
    assert templated.metadata.annotations["from"] == "template"
    assert "note" not in templated.metadata.annotations
    assert kube.data("templated-secret") == expected, "no template data: provider keys kept"


def test_template_type_and_merge_policies(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    password = unique("pw")
    key, _ = _seed(testbed, user="robot", password=password)
    vault_store(kube, testbed)
    docker = (
        '{"auths":{"registry.example":{"username":"{{ .user }}",'
        '"auth":"{{ printf "%s:%s" .user .password | b64enc }}"}}}'
    )
    replace = {
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": docker},
    }
    merge = {"mergePolicy": "Merge", "data": {"url": "postgres://{{ .user }}@db"}}
    kube.apply("externalsecrets", external_secret("pull", key, target={"template": replace}))
    kube.apply("externalsecrets", external_secret("merged", key, target={"template": merge}))
    start_operator()

    pull = eventually(lambda: kube.secret("pull-secret"), what="the pull Secret")
    assert pull.type == "kubernetes.io/dockerconfigjson"
    data = kube.data("pull-secret")
    assert data is not None and set(data) == {".dockerconfigjson"}, "Replace: rendered keys only"
    auth = base64.b64encode(f"robot:{password}".encode()).decode()
    assert json.loads(data[".dockerconfigjson"]) == {
        "auths": {"registry.example": {"username": "robot", "auth": auth}}
    }
    assert eventually(lambda: kube.data("merged-secret")) == {
        "user": b"robot",
        "password": password.encode(),
        "url": b"postgres://robot@db",
    }
    merged = kube.secret("merged-secret")
    assert merged is not None and merged.type == "Opaque"


def test_a_secret_controlled_by_something_else_is_never_overwritten(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key, _ = _seed(testbed, password=unique("pw"))
    vault_store(kube, testbed)
    owner = kube.core.create_namespaced_config_map(
        kube.namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    reference = client.V1OwnerReference(
        api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid, controller=True
    )
    kube.core.create_namespaced_secret(
        kube.namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="taken-secret", owner_references=[reference]),
            string_data={"theirs": "value"},
        ),
    )
    before = kube.secret("taken-secret")
    assert before is not None
    kube.apply("externalsecrets", external_secret("taken", key))
    start_operator()
    refused = condition(kube, "taken", "False", "SecretSyncedError")
    assert "ConfigMap owner" in refused["message"]
    events = eventually(
        lambda: [e for e in kube.events("taken") if e.type == "Warning"], what="a Warning"
    )
    assert "ConfigMap owner" in events[0].message
    after = kube.secret("taken-secret")
    assert after is not None
    assert after.metadata.resource_version == before.metadata.resource_version
    assert kube.data("taken-secret") == {"theirs": b"value"}


def test_delete_policy_never_deletes_a_secret_it_does_not_own(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    """When every remote key is gone, deletionPolicy Delete deletes only a Secret this
    ExternalSecret owns: with Orphan (ESO: "creationPolicy is not Owner") or with a Secret
    controlled by something else, the Secret stays and the condition says why."""
    bao = vault(testbed)
    key, expected = _seed(testbed, password=unique("pw"))
    vault_store(kube, testbed)
    owner = kube.core.create_namespaced_config_map(
        kube.namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    reference = client.V1OwnerReference(
        api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid, controller=True
    )
    kube.core.create_namespaced_secret(
        kube.namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="theirs-secret", owner_references=[reference]),
            string_data={"theirs": "value"},
        ),
    )
    for name, policy in (("orphan", "Orphan"), ("theirs", "Owner")):
        target = {"creationPolicy": policy, "deletionPolicy": "Delete"}
        kube.apply("externalsecrets", external_secret(name, key, target=target))
    start_operator()
    assert eventually(lambda: kube.data("orphan-secret") == expected, what="the orphan")
    condition(kube, "theirs", "False", "SecretSyncedError")

    bao.secrets.kv.v2.delete_metadata_and_all_versions(key)
    for name in ("orphan", "theirs"):
        kube.patch_es(name, {"metadata": {"annotations": {"force-sync": "1"}}})
    refused = condition(kube, "orphan", "False", "SecretSyncedError")
    assert "Owner" in refused["message"]
    assert kube.data("orphan-secret") == expected
    eventually(
        lambda: "ConfigMap owner" in (kube.ready("theirs") or {}).get("message", ""),
        what="the foreign owner named",
    )
    time.sleep(0.5)
    assert kube.data("theirs-secret") == {"theirs": b"value"}
