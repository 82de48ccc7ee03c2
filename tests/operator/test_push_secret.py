"""PushSecret on the real operator (its own ServiceAccount) against the test bed's OpenBao (and
moto for AWS Secrets Manager and Parameter Store): the value is written with ESO's managed-by
marker and follows the source Secret; IfNotExists keeps what is there; a value we did not write
is refused by a condition naming it and left alone; deletionPolicy Delete removes what was pushed
when the PushSecret goes (and lets go of the finalizer, with a Warning naming what is left when
the store is gone), None keeps it; a deleted source takes what it pushed along under Delete; a
ClusterPushSecret makes one PushSecret per selected namespace. The pushed values never reach the
logs, the Events or the status."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import hvac
import hvac.exceptions
import pytest
from botocore.exceptions import ClientError
from kubernetes import client

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import unique, vault, vault_store, vault_store_body
from tests.providers import aws_fixtures
from tests.testbed import stack

Start = Callable[..., Operator]
GROUP, VERSION, PLURAL = "external-secrets.io", "v1alpha1", "pushsecrets"
FINALIZER = "pushsecret.externalsecrets.io/finalizer"
FIRST, SECOND = "pushed-Pw-1st-9xQ2", "pushed-Pw-2nd-4kZ7"


def _push_secret(name: str, remote_key: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "refreshInterval": "1s",
        "secretStoreRefs": [{"name": "vault", "kind": "SecretStore"}],
        "selector": {"secret": {"name": "src"}},
        "data": [
            {
                "match": {
                    "secretKey": "password",
                    "remoteRef": {"remoteKey": remote_key, "property": "password"},
                }
            }
        ],
        **spec,
    }
    return {"kind": "PushSecret", "metadata": {"name": name}, "spec": body}


def _get(kube: Cluster, name: str) -> dict[str, Any] | None:
    try:
        found: Any = kube.custom.get_namespaced_custom_object(
            GROUP, VERSION, kube.namespace, PLURAL, name
        )
    except client.exceptions.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return dict(found)


def _ready(kube: Cluster, name: str, status: str, reason: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        conditions = ((_get(kube, name) or {}).get("status") or {}).get("conditions") or []
        ready: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
        return ready if (ready.get("status"), ready.get("reason")) == (status, reason) else None

    found: dict[str, Any] = eventually(check, timeout=30, what=f"{name} Ready={status} {reason}")
    return found


def _delete(kube: Cluster, name: str) -> None:
    kube.custom.delete_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, name)


def _remote(bao: hvac.Client, key: str) -> dict[str, Any] | None:
    try:
        read = bao.secrets.kv.v2.read_secret_version(
            key, mount_point="secret", raise_on_deleted_version=True
        )
    except hvac.exceptions.InvalidPath:
        return None
    data: dict[str, Any] = read["data"]["data"]
    return data


def _marker(bao: hvac.Client, key: str) -> dict[str, Any] | None:
    meta = bao.secrets.kv.v2.read_secret_metadata(key, mount_point="secret")["data"]
    found: dict[str, Any] | None = meta.get("custom_metadata")
    return found


def _gone(kube: Cluster, name: str) -> Callable[[], bool]:
    return lambda: _get(kube, name) is None


def _warnings(kube: Cluster, name: str) -> list[str]:
    return [f"{e.reason}: {e.message}" for e in kube.events(name) if e.type == "Warning"]


def _assert_never_shown(kube: Cluster, operator: Operator, names: list[str]) -> None:
    shown = [operator.logs()]
    for name in names:
        shown.append(json.dumps((_get(kube, name) or {}).get("status")))
        shown.extend(f"{e.reason} {e.message}" for e in kube.events(name))
    text = "\n".join(shown)
    for value in (FIRST, SECOND):
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text


@pytest.fixture
def bao(testbed: stack.Testbed) -> hvac.Client:
    return vault(testbed)


@pytest.fixture
def pushing(kube: Cluster, testbed: stack.Testbed) -> Cluster:
    """The Vault store `vault` (KV v2 at secret/) and the source Secret `src`."""
    vault_store(kube, testbed)
    kube.put_secret("src", {"password": FIRST})
    return kube


def test_push_writes_with_the_marker_follows_the_source_and_deletes_on_deletion(
    pushing: Cluster, bao: hvac.Client, start_operator: Start
) -> None:
    kube, key = pushing, unique("push/app")
    kube.apply(PLURAL, _push_secret("app", key, deletionPolicy="Delete"), VERSION)
    operator = start_operator()

    ready = _ready(kube, "app", "True", "Synced")
    assert ready["message"] == "PushSecret synced successfully"
    assert _remote(bao, key) == {"password": FIRST}
    assert _marker(bao, key) == {"managed-by": "external-secrets"}
    found = _get(kube, "app") or {}
    assert FINALIZER in found["metadata"]["finalizers"]
    synced = found["status"]["syncedPushSecrets"]
    assert synced == {
        "SecretStore/vault": {
            f"{key}/password": {
                "match": {
                    "secretKey": "password",
                    "remoteRef": {"remoteKey": key, "property": "password"},
                },
                "conversionStrategy": "None",
            }
        }
    }

    kube.core.patch_namespaced_secret("src", kube.namespace, {"stringData": {"password": SECOND}})
    eventually(lambda: _remote(bao, key) == {"password": SECOND}, what="the remote updated")

    _delete(kube, "app")
    eventually(lambda: _get(kube, "app") is None, what="the PushSecret gone")
    assert _remote(bao, key) is None
    _assert_never_shown(kube, operator, ["app"])


def test_if_not_exists_keeps_a_value_already_there(
    pushing: Cluster, bao: hvac.Client, start_operator: Start
) -> None:
    kube, key = pushing, unique("push/keep")
    bao.secrets.kv.v2.update_metadata(
        key, custom_metadata={"managed-by": "external-secrets"}, mount_point="secret"
    )
    bao.secrets.kv.v2.create_or_update_secret(key, {"password": "earlier"}, mount_point="secret")
    kube.apply(PLURAL, _push_secret("keep", key, updatePolicy="IfNotExists"), VERSION)
    operator = start_operator()

    ready = _ready(kube, "keep", "True", "Synced")
    assert "Existing secrets in providers unchanged" in ready["message"]
    assert _remote(bao, key) == {"password": "earlier"}
    fresh = unique("push/fresh")
    kube.apply(PLURAL, _push_secret("fresh", fresh, updatePolicy="IfNotExists"), VERSION)
    _ready(kube, "fresh", "True", "Synced")
    assert _remote(bao, fresh) == {"password": FIRST}  # nothing there: written
    _assert_never_shown(kube, operator, ["keep", "fresh"])


def test_a_value_without_the_marker_is_refused_and_left_alone(
    pushing: Cluster, bao: hvac.Client, start_operator: Start
) -> None:
    kube, key = pushing, unique("push/theirs")
    bao.secrets.kv.v2.create_or_update_secret(key, {"password": "theirs"}, mount_point="secret")
    kube.apply(PLURAL, _push_secret("theirs", key, deletionPolicy="Delete"), VERSION)
    operator = start_operator()

    ready = _ready(kube, "theirs", "False", "Errored")
    assert key in ready["message"] and "managed-by" in ready["message"]
    # The Event is posted after the status, by the best-effort recorder: wait for it.
    eventually(
        lambda: any(key in warning for warning in _warnings(kube, "theirs")),
        what="a Warning Event naming the key",
    )
    assert _remote(bao, key) == {"password": "theirs"}
    assert not (_marker(bao, key) or {})

    _delete(kube, "theirs")  # nothing was pushed: nothing to delete, and theirs stays
    eventually(lambda: _get(kube, "theirs") is None, what="the PushSecret gone")
    assert _remote(bao, key) == {"password": "theirs"}
    _assert_never_shown(kube, operator, ["theirs"])


def test_deletion_policy_none_leaves_the_pushed_value(
    pushing: Cluster, bao: hvac.Client, start_operator: Start
) -> None:
    kube, key = pushing, unique("push/kept")
    kube.apply(PLURAL, _push_secret("kept", key), VERSION)
    operator = start_operator()

    _ready(kube, "kept", "True", "Synced")
    assert FINALIZER not in ((_get(kube, "kept") or {})["metadata"].get("finalizers") or [])
    _delete(kube, "kept")
    eventually(lambda: _get(kube, "kept") is None, what="the PushSecret gone")
    assert _remote(bao, key) == {"password": FIRST}
    assert _marker(bao, key) == {"managed-by": "external-secrets"}
    _assert_never_shown(kube, operator, ["kept"])


def test_deletion_lets_go_and_names_what_is_left_when_the_store_or_its_credentials_are_gone(
    pushing: Cluster, bao: hvac.Client, testbed: stack.Testbed, start_operator: Start
) -> None:
    kube, key, other = pushing, unique("push/orphan"), unique("push/lost")
    kube.put_secret("token-2", {"token": testbed.VAULT_TOKEN})
    store = vault_store_body(testbed, "vault-2")
    store["spec"]["provider"]["vault"]["auth"]["tokenSecretRef"]["name"] = "token-2"
    kube.apply("secretstores", store)
    kube.apply(PLURAL, _push_secret("orphan", key, deletionPolicy="Delete"), VERSION)
    lost = _push_secret("lost", other, deletionPolicy="Delete")
    lost["spec"]["secretStoreRefs"] = [{"name": "vault-2"}]
    kube.apply(PLURAL, lost, VERSION)
    operator = start_operator()
    _ready(kube, "orphan", "True", "Synced")
    _ready(kube, "lost", "True", "Synced")

    kube.custom.delete_namespaced_custom_object(
        GROUP, "v1", kube.namespace, "secretstores", "vault"
    )
    kube.core.delete_namespaced_secret("token-2", kube.namespace)
    _delete(kube, "orphan")
    _delete(kube, "lost")
    eventually(lambda: _get(kube, "orphan") is None, what="orphan let go")
    eventually(lambda: _get(kube, "lost") is None, what="lost let go")

    for name, where, remote in (
        ("orphan", f"SecretStore/vault: {key}/password", key),
        ("lost", f"SecretStore/vault-2: {other}/password", other),
    ):
        left = [w for w in _warnings(kube, name) if w.startswith("PushedSecretsNotDeleted")]
        assert len(left) == 1 and where in left[0], _warnings(kube, name)
        assert _remote(bao, remote) == {"password": FIRST}  # left, and said so
    _assert_never_shown(kube, operator, ["orphan", "lost"])


def test_a_cluster_push_secret_runs_one_push_secret_per_selected_namespace(
    kube: Cluster,
    bao: hvac.Client,
    testbed: stack.Testbed,
    make_namespace: Callable[..., str],
    start_operator: Start,
) -> None:
    team, key, name = unique("team"), unique("push/cluster"), unique("cps")
    selected, taken = make_namespace({"cps": team}), make_namespace({"cps": team})
    store = unique("cvault")
    vault_store(kube, testbed, store, "ClusterSecretStore")
    Cluster(kube.core.api_client, selected).put_secret("src", {"password": FIRST})
    theirs = _push_secret("app", "elsewhere")
    Cluster(kube.core.api_client, taken).apply(PLURAL, theirs, VERSION)
    spec = _push_secret("app", key, deletionPolicy="Delete")["spec"]
    spec["secretStoreRefs"] = [{"name": store, "kind": "ClusterSecretStore"}]
    cps = {
        "kind": "ClusterPushSecret",
        "metadata": {"name": name},
        "spec": {
            "pushSecretName": "app",
            "pushSecretSpec": spec,
            "namespaceSelectors": [{"matchLabels": {"cps": team}}],
            "refreshTime": "1s",
        },
    }
    kube.apply("clusterpushsecrets", cps, VERSION)
    operator = start_operator(also=(selected, taken))

    def cluster_status() -> dict[str, Any]:
        found: Any = kube.custom.get_cluster_custom_object(
            GROUP, VERSION, "clusterpushsecrets", name
        )
        return dict(found.get("status") or {})

    def provisioned(namespaces: list[str]) -> bool:
        return cluster_status().get("provisionedNamespaces") == namespaces

    eventually(lambda: provisioned([selected]), what="provisioned")
    status = cluster_status()
    assert status["pushSecretName"] == "app"
    assert status["failedNamespaces"] == [
        {"namespace": taken, "reason": "a PushSecret of that name exists and is not this "
         "ClusterPushSecret's; rename or delete it"}
    ]  # fmt: skip
    assert status["conditions"][0]["status"] == "False"
    eventually(lambda: _remote(bao, key) == {"password": FIRST}, what="pushed by the child")
    assert _marker(bao, key) == {"managed-by": "external-secrets"}
    child: Any = kube.custom.get_namespaced_custom_object(GROUP, VERSION, selected, PLURAL, "app")
    (owner,) = child["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("ClusterPushSecret", name, True)
    left: Any = kube.custom.get_namespaced_custom_object(GROUP, VERSION, taken, PLURAL, "app")
    assert "ownerReferences" not in left["metadata"] and left["spec"] == theirs["spec"]

    # A namespace that stops matching loses its PushSecret, and so the value it pushed.
    kube.core.patch_namespace(selected, {"metadata": {"labels": {"cps": None}}})
    eventually(lambda: provisioned([]), what="unprovisioned")
    eventually(lambda: _remote(bao, key) is None, what="the remote value deleted")

    kube.core.patch_namespace(selected, {"metadata": {"labels": {"cps": team}}})
    eventually(lambda: _remote(bao, key) == {"password": FIRST}, what="pushed again")
    kube.custom.delete_cluster_custom_object(GROUP, VERSION, "clusterpushsecrets", name)
    eventually(lambda: _remote(bao, key) is None, timeout=60, what="its children collected")
    _assert_never_shown(kube, operator, [])


def test_a_deleted_source_takes_what_it_pushed_with_it_under_deletion_policy_delete(
    pushing: Cluster, bao: hvac.Client, start_operator: Start
) -> None:
    kube, key, kept = pushing, unique("push/src-gone"), unique("push/src-kept")
    kube.apply(PLURAL, _push_secret("gone", key, deletionPolicy="Delete"), VERSION)
    kube.apply(PLURAL, _push_secret("kept", kept), VERSION)
    operator = start_operator()
    _ready(kube, "gone", "True", "Synced")
    _ready(kube, "kept", "True", "Synced")

    kube.core.delete_namespaced_secret("src", kube.namespace)
    eventually(lambda: _remote(bao, key) is None, what="the pushed value deleted")
    normal = eventually(
        lambda: [e for e in kube.events("gone") if e.reason == "SourceDeleted"], what="the Event"
    )
    assert normal[0].type == "Normal"
    assert not ((_get(kube, "gone") or {}).get("status") or {}).get("syncedPushSecrets")
    _ready(kube, "kept", "False", "Errored")  # deletionPolicy None: a missing source only says so
    assert _remote(bao, kept) == {"password": FIRST}
    _assert_never_shown(kube, operator, ["gone", "kept"])


def test_push_to_aws_secrets_manager_and_parameter_store_with_the_managed_by_tag(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    kube.put_secret(
        aws_fixtures.KEYS_SECRET,
        {
            "access-key": testbed.AWS_ACCESS_KEY_ID,
            "secret-access-key": testbed.AWS_SECRET_ACCESS_KEY,
        },
    )
    kube.put_secret("src", {"password": FIRST})
    names = {"SecretsManager": unique("push/op-sm"), "ParameterStore": "/" + unique("push/op-ps")}
    for service, remote in names.items():
        store = service.lower()
        aws: dict[str, Any] = {
            "service": service,
            "region": testbed.AWS_DEFAULT_REGION,
            "auth": aws_fixtures.static_auth(),
        }
        kube.apply(
            "secretstores",
            {
                "kind": "SecretStore",
                "metadata": {"name": store},
                "spec": {"provider": {"aws": aws}},
            },
        )
        body = _push_secret(store, remote, deletionPolicy="Delete")
        body["spec"]["secretStoreRefs"] = [{"name": store}]
        kube.apply(PLURAL, body, VERSION)
    operator = start_operator(env={"AWS_ENDPOINT_URL": testbed.AWS_ENDPOINT_URL})
    sm = aws_fixtures.seed_client(testbed, "secretsmanager")
    ssm = aws_fixtures.seed_client(testbed, "ssm")
    managed = {"Key": "managed-by", "Value": "external-secrets"}

    for service in names:
        _ready(kube, service.lower(), "True", "Synced")
    secret = names["SecretsManager"]
    assert json.loads(sm.get_secret_value(SecretId=secret)["SecretBinary"]) == {"password": FIRST}
    assert managed in sm.describe_secret(SecretId=secret)["Tags"]
    parameter = names["ParameterStore"]
    stored = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]
    assert (stored["Type"], json.loads(stored["Value"])) == ("String", {"password": FIRST})
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter)["TagList"]
    assert managed in tags

    for store in (service.lower() for service in names):
        _delete(kube, store)
    for store in (service.lower() for service in names):
        eventually(_gone(kube, store), what=f"{store} let go")
    assert sm.describe_secret(SecretId=secret).get("DeletedDate")  # its recovery window
    with pytest.raises(ClientError):
        ssm.get_parameter(Name=parameter)
    _assert_never_shown(kube, operator, [s.lower() for s in names])


def test_a_password_generator_pushed_is_rotated_at_every_refresh(
    kube: Cluster, bao: hvac.Client, testbed: stack.Testbed, start_operator: Start
) -> None:
    vault_store(kube, testbed)
    key = unique("push/generated")
    kube.custom.create_namespaced_custom_object(
        "generators.external-secrets.io",
        "v1alpha1",
        kube.namespace,
        "passwords",
        {
            "apiVersion": "generators.external-secrets.io/v1alpha1",
            "kind": "Password",
            "metadata": {"name": "pw"},
            "spec": {"length": 28, "symbols": 0},
        },
    )
    body = _push_secret("rotated", key)
    body["spec"]["selector"] = {
        "generatorRef": {
            "apiVersion": "generators.external-secrets.io/v1alpha1",
            "kind": "Password",
            "name": "pw",
        }
    }
    kube.apply(PLURAL, body, VERSION)
    operator = start_operator()

    _ready(kube, "rotated", "True", "Synced")
    first = eventually(lambda: _remote(bao, key), what="the generated password pushed")
    assert len(first["password"]) == 28
    second = eventually(
        lambda: (
            (_remote(bao, key) or {}).get("password") not in (None, first["password"])
            and _remote(bao, key)
        ),
        what="a new password at the next refresh",
    )
    assert len(second["password"]) == 28
    shown = [operator.logs(), json.dumps((_get(kube, "rotated") or {}).get("status"))]
    shown += [f"{e.reason} {e.message}" for e in kube.events("rotated")]
    for value in (first["password"], second["password"]):
        assert value not in "\n".join(shown)
