"""spec.target.manifest, the pure parts: the object ESO 2.9's applyTemplateToManifest builds
(data placement, templates, field paths, metadata, hash) and the write decisions of
reconcileGenericTarget. The operator tests (tests/operator/test_target_manifest.py) run them
against the API server."""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.api.objects import ExternalSecret, parse_external_secret
from secretsync.errors import ConfigError
from secretsync.reconcile import generic, writes
from secretsync.resolve import manifest, templating
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, MANAGED_LABEL

UID = "8d4f7f0e-0000-4000-8000-000000000001"


def _es(target: dict[str, Any], labels: dict[str, str] | None = None) -> ExternalSecret:
    return parse_external_secret(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {
                "name": "app",
                "namespace": "team",
                "uid": UID,
                "generation": 1,
                "labels": labels or {},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            },
            "spec": {
                "secretStoreRef": {"name": "s"},
                "data": [{"secretKey": "k", "remoteRef": {"key": "k"}}],
                "target": target,
            },
        }
    )


CONFIGMAP = {"manifest": {"apiVersion": "v1", "kind": "ConfigMap"}}
WIDGET = {"manifest": {"apiVersion": "example.com/v1", "kind": "Widget"}}
DATA = {"user": b"admin", "url": b"https://x"}


def _content(es: ExternalSecret, data: dict[str, bytes] = DATA) -> manifest.Content:
    template = es.spec.target.template
    if template is None:
        return manifest.Content(data=data)
    placed = templating.placements(template, data, lambda kind, name: {})
    return manifest.Content(data=data, placements=tuple(placed))


def test_a_configmap_without_template_holds_the_data_as_text() -> None:
    es = _es({"name": "app-config", **CONFIGMAP}, labels={"team": "a"})
    obj = manifest.build(es, _content(es), None)
    assert obj["apiVersion"] == "v1" and obj["kind"] == "ConfigMap"
    assert obj["metadata"]["name"] == "app-config" and obj["metadata"]["namespace"] == "team"
    assert obj["data"] == {"user": "admin", "url": "https://x"}
    assert obj["metadata"]["labels"] == {"team": "a", MANAGED_LABEL: "true"}
    # ESO's hash (Go's %+v of the map, sha3-224), computed with Go for this data.
    assert obj["metadata"]["annotations"] == {
        DATA_HASH_ANNOTATION: "da089077588ee14e3f5cc7b7b4d55eff523887939f1953b2f98d7c12"
    }


def test_a_custom_resource_without_template_gets_spec_data() -> None:
    es = _es(WIDGET)
    obj = manifest.build(es, _content(es), None)
    assert obj["spec"] == {"data": {"user": "admin", "url": "https://x"}}
    assert "data" not in obj


def test_templates_place_values_by_target() -> None:
    es = _es(
        {
            **WIDGET,
            "template": {
                "metadata": {"labels": {"tier": "{{ .user }}-raw"}},
                "data": {"greeting": "hello {{ .user }}"},
                "templateFrom": [
                    {"literal": "port: 8080\nhosts: [a, b]\n", "target": "spec.config"},
                    {"literal": "enabled: true\nratio: 0.5\n", "target": "spec.config"},
                    {"literal": "owner: '{{ .user }}'", "target": "ANNOTATIONS"},
                    {"literal": "{{ .url }}", "target": "spec.rules[1].from[0].source"},
                    {"literal": "url: '{{ .url }}'", "target": "spec"},
                ],
            },
        }
    )
    obj = manifest.build(es, _content(es), None)
    # template.data goes to the top-level data field, as ESO's engine writes it.
    assert obj["data"] == {"greeting": "hello admin"}
    # "spec" as a KeysAndValues target replaces the spec; nested paths merge into it.
    assert obj["spec"]["url"] == "https://x"
    assert obj["metadata"]["annotations"]["owner"] == "admin"
    # Template metadata is copied as written (ESO does not render it for manifests).
    assert obj["metadata"]["labels"]["tier"] == "{{ .user }}-raw"
    assert "kubectl.kubernetes.io/last-applied-configuration" not in obj["metadata"]["annotations"]


def test_field_paths_merge_maps_grow_lists_and_keep_numbers_whole() -> None:
    es = _es(
        {
            **WIDGET,
            "template": {
                "templateFrom": [
                    {"literal": "port: 8080\nhosts: [a, b]\n", "target": "spec.config"},
                    {"literal": "enabled: true\nratio: 0.5\n", "target": "spec.config"},
                    {"literal": "{k: v}", "target": "spec.data"},
                    {"literal": "10.0.0.0/8", "target": "spec.rules[1].from[0].source"},
                ],
            },
        }
    )
    obj = manifest.build(es, _content(es), None)
    assert obj["spec"]["config"] == {
        "port": 8080,
        "hosts": ["a", "b"],
        "enabled": True,
        "ratio": 0.5,
    }
    assert isinstance(obj["spec"]["config"]["port"], int)
    assert obj["spec"]["rules"] == [None, {"from": [{"source": "10.0.0.0/8"}]}]
    # A value as the object is read back from the API server hashes as Go hashed the built one.
    probe = {"spec": {k: obj["spec"][k] for k in ("config", "data")}}
    assert manifest.content_hash(probe) == (
        "d5abc58974f4c2d4763ca33e657eac4dfe4d9998abb111130fc1c830"
    )


@pytest.mark.parametrize(
    "target",
    ["spec..x", "[0].x", "spec.rules[x]", "spec.rules[-1]", "spec.rules[10001]", "spec.a[0"],
)
def test_malformed_paths_are_refused_naming_the_path(target: str) -> None:
    es = _es({**WIDGET, "template": {"templateFrom": [{"literal": "a: b", "target": target}]}})
    with pytest.raises(ConfigError, match="invalid path"):
        manifest.build(es, _content(es), None)


def test_a_path_through_a_scalar_is_refused() -> None:
    template = {"templateFrom": [{"literal": "x", "target": "spec.a.b"}]}
    es = _es({**WIDGET, "creationPolicy": "Merge", "template": template})
    base = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}, "spec": {"a": 1}}
    with pytest.raises(ConfigError, match="expected an object"):
        manifest.build(es, _content(es), base)


def test_field_paths_are_refused_for_a_secret_target() -> None:
    with pytest.raises(ConfigError, match="not allowed when targeting a Secret") as caught:
        _es({"template": {"templateFrom": [{"literal": "a: b", "target": "spec.x"}]}})
    assert "templateFrom[0].target" in str(caught.value)
    # A manifest naming v1 Secret is the ordinary Secret target, with the same rule.
    with pytest.raises(ConfigError, match="not allowed"):
        _es(
            {
                "manifest": {"apiVersion": "v1", "kind": "Secret"},
                "template": {"templateFrom": [{"literal": "a: b", "target": "type"}]},
            }
        )


def _plan(es: ExternalSecret, existing: dict[str, Any] | None, data: dict[str, bytes] = DATA):
    return generic.plan(es, _content(es, data), existing)


def test_owner_creates_with_a_controller_reference_and_updates_only_on_change() -> None:
    es = _es(CONFIGMAP)
    write = _plan(es, None)
    assert write.action is writes.Action.CREATE and write.body is not None
    meta = write.body["metadata"]
    assert meta["ownerReferences"][0]["uid"] == UID and meta["ownerReferences"][0]["controller"]
    assert meta["labels"][generic.OWNER_LABEL] == generic.owner_label(es)
    live = {**write.body, "metadata": {**meta, "resourceVersion": "7", "uid": "cm-uid"}}
    assert generic.valid(es, live)
    assert _plan(es, live).action is writes.Action.NOTHING
    changed = _plan(es, live, {"user": b"root"})
    assert changed.action is writes.Action.UPDATE and changed.body is not None
    assert changed.body["metadata"]["resourceVersion"] == "7"
    assert changed.body["data"] == {"user": "root"}
    edited = {**live, "data": {"user": "hand-edited"}}
    assert not generic.valid(es, edited)


def test_merge_updates_an_existing_object_in_place_and_waits_for_a_missing_one() -> None:
    es = _es({**CONFIGMAP, "creationPolicy": "Merge"})
    assert _plan(es, None).action is writes.Action.WAIT
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app", "labels": {"keep": "me"}, "resourceVersion": "3"},
        "data": {"foreign": "x"},
        "binaryData": {"blob": "AAEC"},
    }
    write = _plan(es, live)
    assert write.action is writes.Action.UPDATE and write.body is not None
    # Without a template ESO replaces data as a whole, even here; other fields stay.
    assert write.body["data"] == {"user": "admin", "url": "https://x"}
    assert write.body["binaryData"] == {"blob": "AAEC"}
    assert write.body["metadata"]["labels"]["keep"] == "me"
    assert "ownerReferences" not in write.body["metadata"]


def test_empty_data_follows_the_deletion_policy() -> None:
    live = _plan(_es(CONFIGMAP), None).body
    assert live is not None
    retain = _plan(_es(CONFIGMAP), live, {})
    assert retain.action is writes.Action.NOTHING and "retained" in retain.reason
    delete = _plan(_es({**CONFIGMAP, "deletionPolicy": "Delete"}), live, {})
    assert delete.action is writes.Action.DELETE
    assert generic.outcome(delete).reason.value == "ResourceDeleted"
    orphan = _es({**CONFIGMAP, "creationPolicy": "Orphan", "deletionPolicy": "Delete"})
    refused = _plan(orphan, live, {})
    assert refused.action is writes.Action.REFUSE and "is not Owner" in refused.reason


def test_an_object_another_controller_owns_is_never_written() -> None:
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "app",
            "ownerReferences": [
                {"kind": "Deployment", "name": "web", "uid": "x", "controller": True}
            ],
        },
        "data": {},
    }
    write = _plan(_es({**CONFIGMAP, "creationPolicy": "Orphan"}), live)
    assert write.action is writes.Action.REFUSE and "Deployment web" in write.reason


def test_none_writes_nothing_and_orphan_is_always_valid() -> None:
    assert _plan(_es({**CONFIGMAP, "creationPolicy": "None"}), None).action is writes.Action.NOTHING
    assert generic.valid(_es({**CONFIGMAP, "creationPolicy": "Orphan"}), None)
    assert not generic.valid(_es(CONFIGMAP), None)


def test_every_string_outside_metadata_is_handed_to_the_redactor() -> None:
    obj = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "annotations": {"a": "not-content"}},
        "spec": {"data": {"k": "s3cret-one"}, "rules": [{"from": [{"source": "s3cret-two"}]}]},
        "binaryData": {"b": "czNjcmV0"},
        "status": {"message": "not-content"},
    }
    assert sorted(generic.content_strings(obj)) == ["czNjcmV0", "s3cret-one", "s3cret-two"]
