"""Every templateFrom form ESO 2.9 accepts, into a Secret, through the running operator:
configMap and secret items (Values and KeysAndValues), literals, the Data / Annotations /
Labels targets in any case, valuesDecodingStrategy, several sources in one entry, precedence,
and a field-path target refused for a Secret."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from kubernetes import client

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition, unique, vault, vault_store, visible_text
from tests.testbed import stack


def _seed(kube: Cluster, testbed: stack.Testbed) -> str:
    key = unique(f"tplfrom/{kube.namespace}")
    vault(testbed).secrets.kv.v2.create_or_update_secret(
        key, secret={"user": "app", "password": "pw-c0ffee", "host": "db.internal"}
    )
    vault_store(kube, testbed)
    return key


def _es(name: str, key: str, template: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "ExternalSecret",
        "metadata": {"name": name},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": "vault"},
            "target": {"name": name, "template": template},
            "dataFrom": [{"extract": {"key": key}}],
        },
    }


def test_every_template_from_source_and_target(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = _seed(kube, testbed)
    kube.core.create_namespaced_config_map(
        kube.namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="tpl"),
            data={
                "app.conf": "user={{ .user }}\nhost={{ .host }}\n",
                "pairs": "cm-user: '{{ .user }}'\ncm-host: '{{ .host | upper }}'\n",
                "labels": "team: payments\nrole: '{{ \"reader\" | upper }}'\n",
            },
        ),
    )
    kube.put_secret(
        "tpl-secret",
        {
            "dsn": "postgres://{{ .user }}:{{ .password }}@{{ .host }}",
            "more": "sec-a: '{{ .user }}'\nsec-b: fixed\n",
        },
    )
    template = {
        "metadata": {"annotations": {"from-metadata": "yes"}},
        "data": {"cm-user": "template.data wins over templateFrom"},
        "templateFrom": [
            {"configMap": {"name": "tpl", "items": [{"key": "app.conf"}]}},
            {
                "configMap": {
                    "name": "tpl",
                    "items": [{"key": "pairs", "templateAs": "KeysAndValues"}],
                },
                "secret": {
                    "name": "tpl-secret",
                    "items": [
                        {"key": "dsn", "templateAs": "Values"},
                        {"key": "more", "templateAs": "KeysAndValues"},
                    ],
                },
                "literal": "from-literal: '{{ .host }}'",
            },
            {"literal": "b64: '{{ .user | b64enc }}'", "valuesDecodingStrategy": "Base64"},
            {
                "configMap": {
                    "name": "tpl",
                    "items": [{"key": "labels", "templateAs": "KeysAndValues"}],
                },
                "target": "labels",
            },
            {"literal": "checked-by: '{{ .user | sha256sum | trunc 8 }}'", "target": "ANNOTATIONS"},
            {"literal": "data-lower: ok", "target": "data"},
        ],
    }
    kube.apply("externalsecrets", _es("all", key, template))
    start_operator()
    data = eventually(lambda: kube.data("all"), what="the Secret")
    assert data == {
        "app.conf": b"user=app\nhost=db.internal\n",
        "cm-user": b"template.data wins over templateFrom",
        "cm-host": b"DB.INTERNAL",
        "dsn": b"postgres://app:pw-c0ffee@db.internal",
        "sec-a": b"app",
        "sec-b": b"fixed",
        "from-literal": b"db.internal",
        "b64": b"app",  # rendered base64, then decoded by valuesDecodingStrategy
        "data-lower": b"ok",
    }
    secret = kube.secret("all")
    assert secret is not None
    assert secret.metadata.labels["team"] == "payments"
    assert secret.metadata.labels["role"] == "READER"
    assert secret.metadata.annotations["from-metadata"] == "yes"
    assert len(secret.metadata.annotations["checked-by"]) == 8
    condition(kube, "all", "True", "SecretSynced")
    assert not any("pw-c0ffee" in text for text in visible_text(kube, "all"))


def test_a_field_path_target_is_refused_for_a_secret(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = _seed(kube, testbed)
    template = {
        "templateFrom": [{"literal": "kubernetes.io/service-account-token", "target": "type"}]
    }
    kube.apply("externalsecrets", _es("path", key, template))
    start_operator()
    ready = condition(kube, "path", "False", "SecretSyncedError")
    assert "spec.target.template.templateFrom[0].target" in ready["message"]
    assert "use Data, Annotations or Labels" in ready["message"]
    assert kube.secret("path") is None


def test_a_bad_template_source_names_the_item_and_keeps_the_last_good_secret(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = _seed(kube, testbed)
    kube.core.create_namespaced_config_map(
        kube.namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="tpl"), data={"a": "{{ .user }}"}),
    )
    template = {"templateFrom": [{"configMap": {"name": "tpl", "items": [{"key": "a"}]}}]}
    kube.apply("externalsecrets", _es("bad", key, template))
    start_operator()
    eventually(lambda: kube.data("bad") == {"a": b"app"}, what="the first Secret")
    kube.core.patch_namespaced_config_map("tpl", kube.namespace, {"data": {"a": "{{ .nope }}"}})
    kube.patch_es("bad", {"metadata": {"annotations": {"force-sync": "1"}}})
    ready = condition(kube, "bad", "False", "SecretSyncedError")
    assert "templateFrom" in ready["message"] or "template 'a'" in ready["message"]
    assert kube.data("bad") == {"a": b"app"}
    encoded = base64.b64encode(b"app").decode()
    assert kube.secret("bad").data == {"a": encoded}
