"""The raw request layer (kube.client.request, request_json, watch_events): the hot apiserver
requests sent through the ApiClient's own credentials, TLS and pool, without the generated
client's per-call work. Failures map exactly as `mapped` maps the generated client's, with a
message that names what was attempted and keeps nothing of a body but the apiserver's message.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from secretsync.errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    NotFound,
    SecretSyncError,
    Throttled,
    Unavailable,
)
from secretsync.kube import client as client_module
from secretsync.kube.client import (
    Expired,
    api_client,
    apiserver_message,
    failure,
    lines,
    mapped,
    query_string,
    request,
    request_json,
    resource_path,
    watch_events,
)
from secretsync.kube.secrets import SecretClient
from tests.testbed import cluster, stack
from tests.testbed.kube import write_kubeconfig

SENTINEL = "s3cr3t-sentinel-value"


# Pure parts.


def test_records_are_cut_at_newlines_wherever_the_chunks_end() -> None:
    chunks = [b'{"a":', b'1}\n{"b":2}\n\n{"c"', b":", b"3}\n", b'{"d":4}']
    assert list(lines(chunks)) == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b'{"d":4}']
    assert list(lines([b"\n", b"  \n"])) == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ConfigError),
        (401, AccessDenied),
        (403, AccessDenied),
        (404, NotFound),
        (409, Conflict),
        (410, Expired),
        (422, ConfigError),
        (429, Throttled),
        (500, Unavailable),
        (503, Unavailable),
        (0, Unavailable),
    ],
)
def test_each_status_maps_to_the_same_error_on_both_paths(
    status: int, error: type[SecretSyncError]
) -> None:
    raw = failure("reading secret ns/db", status, "the message")
    assert type(raw) is error
    assert str(raw) == "reading secret ns/db: the message"
    body = json.dumps({"kind": "Status", "message": "the message", "details": SENTINEL})
    with pytest.raises(SecretSyncError) as generated, mapped("reading secret ns/db"):
        raise ApiException(status=status, reason="Reason", body=body)
    assert type(generated.value) is error
    assert str(generated.value) == "reading secret ns/db: the message"


def test_a_410_is_an_unavailable_that_can_be_told_apart() -> None:
    # Callers that retry on Unavailable keep doing so; a watch loop catches Expired to relist.
    assert isinstance(failure("watching", 410, "too old"), Unavailable)


def test_only_the_apiserver_message_is_kept_from_a_body() -> None:
    body = json.dumps(
        {"kind": "Status", "message": 'secrets "db" not found', "details": {"x": SENTINEL}}
    )
    assert apiserver_message(body.encode(), "Not Found") == 'secrets "db" not found'
    assert apiserver_message(f"<html>{SENTINEL}</html>", "Bad Gateway") == "Bad Gateway"
    assert apiserver_message(json.dumps([SENTINEL]), "Conflict") == "Conflict"
    assert apiserver_message(json.dumps({"message": ""}), "Conflict") == "Conflict"
    assert apiserver_message(None, "Internal Server Error") == "Internal Server Error"


def test_paths_and_queries_are_encoded_as_the_apiserver_reads_them() -> None:
    assert resource_path("api", "v1", "namespaces", "ns", "secrets", "a/b c") == (
        "/api/v1/namespaces/ns/secrets/a%2Fb%20c"
    )
    assert query_string({"watch": True, "allowWatchBookmarks": False, "limit": 500}) == (
        "watch=true&allowWatchBookmarks=false&limit=500"
    )
    assert query_string({"labelSelector": "a=b,c in (d)"}) == "labelSelector=a%3Db%2Cc+in+%28d%29"


# On the real apiserver.


def _secrets(namespace: str, name: str | None = None) -> str:
    return resource_path("api", "v1", "namespaces", namespace, "secrets", *filter(None, [name]))


def test_each_refusal_maps_to_its_error_naming_the_object_and_no_body(
    testbed: stack.Testbed, namespace: str
) -> None:
    api = api_client(testbed.KUBECONFIG)
    secrets = SecretClient(api)
    try:
        with pytest.raises(NotFound) as missing:
            request(api, "GET", _secrets(namespace, "absent"), what=f"reading {namespace}/absent")
        assert str(missing.value) == f'reading {namespace}/absent: secrets "absent" not found'
        assert secrets.get(namespace, "absent") is None

        body = {"metadata": {"name": "db"}, "stringData": {"password": SENTINEL}}
        secrets.create(namespace, body)
        with pytest.raises(Conflict) as taken:
            secrets.create(namespace, body)
        assert str(taken.value) == (f'creating secret {namespace}/db: secrets "db" already exists')

        with pytest.raises(ConfigError) as invalid:
            secrets.create(namespace, {**body, "metadata": {"name": "Not_A_Name"}})
        assert str(invalid.value).startswith(
            f'creating secret {namespace}/Not_A_Name: Secret "Not_A_Name" is invalid'
        )

        with pytest.raises(ConfigError) as undecodable:  # 400: data must be base64
            secrets.create(namespace, {"metadata": {"name": "b64"}, "data": {"k": SENTINEL}})
        assert str(undecodable.value).startswith(f"creating secret {namespace}/b64: ")
        assert "base64" in str(undecodable.value)

        stored = secrets.get(namespace, "db")
        assert stored is not None
        stale = {**stored, "metadata": {**stored["metadata"], "resourceVersion": "1"}}
        with pytest.raises(Conflict) as changed:
            secrets.replace(namespace, stale)
        assert str(changed.value).startswith(f"updating secret {namespace}/db: ")

        for error in (missing, taken, invalid, undecodable, changed):
            assert SENTINEL not in str(error.value)
            assert error.value.__cause__ is None  # no ApiException (and its body) chained
    finally:
        api.close()  # type: ignore[no-untyped-call]


def test_an_apiserver_that_does_not_answer_is_unavailable(testbed: stack.Testbed) -> None:
    api = api_client(testbed.KUBECONFIG)
    with socket.socket() as probe:  # a port nobody listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api.configuration.host = f"https://127.0.0.1:{port}"
    try:
        with pytest.raises(Unavailable) as down:
            request(api, "GET", _secrets("default", "db"), what="reading secret default/db")
        assert str(down.value) == (
            "reading secret default/db: the API server did not answer (MaxRetryError)"
        )
    finally:
        api.close()  # type: ignore[no-untyped-call]


def _service_account(api: client.ApiClient, namespace: str, name: str) -> None:
    path = resource_path("api", "v1", "namespaces", namespace, "serviceaccounts")
    request(api, "POST", path, what="creating a serviceaccount", body={"metadata": {"name": name}})


_PLUGIN = """\
import json, sys
token = open(sys.argv[1]).read().strip()
print(json.dumps({
    "apiVersion": "client.authentication.k8s.io/v1beta1",
    "kind": "ExecCredential",
    "status": {"token": token, "expirationTimestamp": "2000-01-01T00:00:00Z"},
}))
"""


def _exec_kubeconfig(testbed: stack.Testbed, tmp_path: Path, token_file: Path) -> Path:
    """A kubeconfig whose token comes from a credential plugin that reads `token_file`, and
    that has always expired: each run of the client's refresh hook runs the plugin again."""
    plugin = tmp_path / "plugin.py"
    plugin.write_text(_PLUGIN)
    kube = testbed.kube()
    path = write_kubeconfig(tmp_path / "exec.kubeconfig", kube.server, kube.ca)
    config = json.loads(path.read_text())
    config["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": [str(plugin), str(token_file)],
            "interactiveMode": "Never",
        }
    }
    path.write_text(json.dumps(config))
    return path


def test_the_token_the_credential_hook_renews_is_the_one_sent(
    testbed: stack.Testbed,
    kube_api: client.ApiClient,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _service_account(kube_api, namespace, "reader")
    request(
        kube_api,
        "POST",
        resource_path(
            "apis", "rbac.authorization.k8s.io", "v1", "namespaces", namespace, "rolebindings"
        ),
        what="binding the reader",
        body={
            "metadata": {"name": "reader-edit"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "edit",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": namespace}],
        },
    )
    good = cluster.service_account_token(Path(testbed.KUBECONFIG), namespace, "reader")
    token_file = tmp_path / "token"
    token_file.write_text(good)
    # Every request may renew the credentials (the throttle is what test_api_connections covers).
    monkeypatch.setattr(client_module, "CREDENTIAL_REFRESH_SECONDS", 0.0)
    api = api_client(str(_exec_kubeconfig(testbed, tmp_path, token_file)))
    secrets = SecretClient(api)
    try:
        # The binding reaches the apiserver's authorizer shortly after it is stored.
        cluster.wait_until(
            lambda: secrets.get(namespace, "absent") is None, 30, "the reader's binding"
        )
        with pytest.raises(AccessDenied) as forbidden:  # 403: authenticated, not allowed there
            secrets.get("default", "absent")
        assert "cannot get resource" in str(forbidden.value)

        token_file.write_text("not-a-token")
        with pytest.raises(AccessDenied) as refused:  # 401: the renewed (bad) token was sent
            secrets.get(namespace, "absent")
        assert str(refused.value) == f"reading secret {namespace}/absent: Unauthorized"

        token_file.write_text(good)
        assert secrets.get(namespace, "absent") is None
    finally:
        api.close()  # type: ignore[no-untyped-call]


def _collect(events: Any, name: str, until: str) -> list[tuple[str, dict[str, Any]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    for event in events:
        if event["object"]["metadata"]["name"] != name:
            continue
        seen.append((event["type"], event["object"]))
        if event["type"] == until:
            events.close()
            break
    return seen


def test_a_watch_yields_each_change_as_the_apiserver_sent_it(
    testbed: stack.Testbed, namespace: str
) -> None:
    api = api_client(testbed.KUBECONFIG)
    secrets = SecretClient(api)
    try:
        listed = request_json(api, "GET", _secrets(namespace), what="listing secrets")
        version = listed["metadata"]["resourceVersion"]
        labels = {"app.kubernetes.io/managed-by": "secretsync"}
        secrets.create(namespace, {"metadata": {"name": "db", "labels": labels}, "data": {}})
        stored = secrets.get(namespace, "db")
        assert stored is not None
        secrets.replace(namespace, {**stored, "data": {"k": "dmFsdWU="}})
        secrets.create(namespace, {"metadata": {"name": "unlabelled"}, "data": {}})
        secrets.delete(namespace, "db")

        # From the listed version, so the changes above are replayed in order.
        events = watch_events(
            api,
            _secrets(namespace),
            {
                "labelSelector": "app.kubernetes.io/managed-by=secretsync",
                "resourceVersion": version,
                "timeoutSeconds": 60,
                "allowWatchBookmarks": True,
            },
            what=f"watching secrets in {namespace}",
        )
        seen = _collect(events, "db", until="DELETED")
        assert [kind for kind, _ in seen] == ["ADDED", "MODIFIED", "DELETED"]
        assert seen[1][1]["data"] == {"k": "dmFsdWU="}  # the raw object: base64 as stored
        # The label selector applied on the server: the unlabelled Secret never came.
        again = watch_events(
            api,
            _secrets(namespace),
            {
                "labelSelector": "app.kubernetes.io/managed-by=secretsync",
                "resourceVersion": version,
                "timeoutSeconds": 1,
            },
            what=f"watching secrets in {namespace}",
        )
        assert {e["object"]["metadata"]["name"] for e in again if e["type"] != "BOOKMARK"} == {"db"}
    finally:
        api.close()  # type: ignore[no-untyped-call]


def test_a_watch_from_a_version_the_apiserver_no_longer_keeps_raises_expired(
    testbed: stack.Testbed, namespace: str
) -> None:
    api = api_client(testbed.KUBECONFIG)
    try:
        events = watch_events(
            api,
            _secrets(namespace),
            {"resourceVersion": "1", "timeoutSeconds": 60},
            what=f"watching secrets in {namespace}",
        )
        with pytest.raises(Expired) as gone:
            next(events)
        assert str(gone.value).startswith(
            f"watching secrets in {namespace}: too old resource version"
        )
        # The relist the caller does next, on the same client: its connection is good.
        listed = request_json(api, "GET", _secrets(namespace), what="listing secrets")
        assert listed["kind"] == "SecretList"
    finally:
        api.close()  # type: ignore[no-untyped-call]


def test_a_watch_silent_for_longer_than_its_read_timeout_is_unavailable(
    testbed: stack.Testbed, namespace: str
) -> None:
    # How a half-open connection (the apiserver gone without a FIN) ends: nothing comes, not
    # even the apiserver's own end of the watch.
    api = api_client(testbed.KUBECONFIG)
    try:
        events = watch_events(
            api,
            _secrets(namespace),
            {"timeoutSeconds": 60},
            what=f"watching secrets in {namespace}",
            timeout=(10, 0.5),
        )
        with pytest.raises(Unavailable) as silent:
            next(events)
        assert str(silent.value) == (
            f"watching secrets in {namespace}: the API server did not answer (ReadTimeoutError)"
        )
        assert request_json(api, "GET", _secrets(namespace), what="listing secrets")["items"] == []
    finally:
        api.close()  # type: ignore[no-untyped-call]


def test_a_watch_on_what_the_identity_may_not_read_is_access_denied(
    testbed: stack.Testbed,
    namespace: str,
    kube_api: client.ApiClient,
    sa_kubeconfig: Callable[[str, str], Path],
) -> None:
    _service_account(kube_api, namespace, "nobody")
    api = api_client(str(sa_kubeconfig(namespace, "nobody")))
    try:
        with pytest.raises(AccessDenied) as denied:
            next(watch_events(api, _secrets(namespace), what=f"watching secrets in {namespace}"))
        assert str(denied.value).startswith(
            f"watching secrets in {namespace}: secrets is forbidden"
        )
    finally:
        api.close()  # type: ignore[no-untyped-call]
