"""AWS Secrets Manager and Parameter Store providers against the test bed's real moto server.

Keys live in a real Kubernetes Secret read through ClusterCredentials; the endpoint is set the way
users set it, through AWS_ENDPOINT_URL in the environment. Names are unique per test.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import boto3
import pytest
from botocore.exceptions import ClientError
from kubernetes import client

from secretsync.api.sources import Find, FindName, MetadataPolicy, RemoteRef
from secretsync.errors import (
    AccessDenied,
    ConfigError,
    NotFound,
    SecretSyncError,
    Throttled,
    Unavailable,
)
from secretsync.kube.credentials import ClusterCredentials
from secretsync.providers import aws_parameterstore, aws_secretsmanager
from secretsync.providers.aws_errors import translate
from secretsync.providers.aws_session import ROLE_ARN_ANNOTATION
from secretsync.providers.base import Provider, StoreContext
from tests.providers.aws_fixtures import (
    Calls,
    context,
    put_keys,
    seed_client,
    static_auth,
    store,
    unique,
)
from tests.testbed import stack

MakeProvider = Callable[..., tuple[Provider, Calls]]


@pytest.fixture
def aws_env(testbed: stack.Testbed, monkeypatch: pytest.MonkeyPatch) -> stack.Testbed:
    monkeypatch.setenv("AWS_ENDPOINT_URL", testbed.AWS_ENDPOINT_URL)
    # Only the store's own credentials may be used: nothing ambient to fall back on.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return testbed


@pytest.fixture
def make(aws_env: stack.Testbed, kube_api: client.ApiClient, namespace: str) -> MakeProvider:
    put_keys(kube_api, namespace, aws_env.AWS_ACCESS_KEY_ID, aws_env.AWS_SECRET_ACCESS_KEY)

    def build(service: str = "SecretsManager", auth: Any = "static", **extra: Any) -> Any:
        calls = Calls()
        chosen = static_auth() if auth == "static" else auth
        spec = store(namespace, service, aws_env.AWS_DEFAULT_REGION, chosen, **extra)
        ctx = context(kube_api, namespace, spec, calls)
        module = aws_secretsmanager if service == "SecretsManager" else aws_parameterstore
        return module.factory(ctx), calls

    return build


@pytest.fixture
def sm(testbed: stack.Testbed) -> Any:
    return seed_client(testbed, "secretsmanager")


@pytest.fixture
def ssm(testbed: stack.Testbed) -> Any:
    return seed_client(testbed, "ssm")


# --- Secrets Manager: get ----------------------------------------------------------------------


def test_sm_string_and_binary_values(make: MakeProvider, sm: Any) -> None:
    text, blob = unique("app/text-"), unique("app/blob-")
    sm.create_secret(Name=text, SecretString="s3cr3t-text")
    sm.create_secret(Name=blob, SecretBinary=b"\x00\xffbinary")
    provider, calls = make()
    assert provider.get(RemoteRef(key=text)) == b"s3cr3t-text"
    assert provider.get(RemoteRef(key=blob)) == b"\x00\xffbinary"
    assert calls.count("GetSecretValue") == 2


def test_sm_stages_and_uuid_versions(make: MakeProvider, sm: Any) -> None:
    name = unique("app/rotated-")
    first = sm.create_secret(Name=name, SecretString="value-one")["VersionId"]
    second = sm.put_secret_value(SecretId=name, SecretString="value-two")["VersionId"]
    provider, _ = make()
    assert provider.get(RemoteRef(key=name)) == b"value-two"
    assert provider.get(RemoteRef(key=name, version="AWSCURRENT")) == b"value-two"
    assert provider.get(RemoteRef(key=name, version="AWSPREVIOUS")) == b"value-one"
    assert provider.get(RemoteRef(key=name, version=f"uuid/{first}")) == b"value-one"
    assert provider.version(RemoteRef(key=name)) == second
    assert provider.version(RemoteRef(key=name, version="AWSPREVIOUS")) == first


def test_sm_prefix_is_prepended(make: MakeProvider, sm: Any) -> None:
    prefix = unique("team-") + "/"
    sm.create_secret(Name=prefix + "db", SecretString="prefixed-value")
    provider, _ = make(prefix=prefix)
    assert provider.get(RemoteRef(key="db")) == b"prefixed-value"


def test_sm_property_literal_dotted_key_and_raw_objects(make: MakeProvider, sm: Any) -> None:
    name = unique("app/json-")
    document = (
        '{"a.b": "literal", "a": {"b": "nested"},\n "obj": { "x" : [1, 2 ],  "y":null },"n": 5432}'
    )
    sm.create_secret(Name=name, SecretString=document)
    provider, _ = make()

    def get(prop: str) -> bytes:
        return provider.get(RemoteRef(key=name, property=prop))

    assert get("a.b") == b"literal"  # the literal key wins over the path
    assert get("a") == b'{"b": "nested"}'
    assert get("obj") == b'{ "x" : [1, 2 ],  "y":null }'  # raw text, whitespace kept
    assert get("obj.x.1") == b"2"
    assert get("n") == b"5432"
    with pytest.raises(NotFound, match="key missing does not exist"):
        get("missing")


def test_sm_extract_unquotes_strings_and_keeps_raw_json(make: MakeProvider, sm: Any) -> None:
    name = unique("app/extract-")
    sm.create_secret(
        Name=name, SecretString='{"user":"admin","port":5432,"tls":true,"nested":{"baz": "v"}}'
    )
    provider, _ = make()
    assert provider.get_map(RemoteRef(key=name)) == {
        "user": b"admin",
        "port": b"5432",
        "tls": b"true",
        "nested": b'{"baz": "v"}',
    }


def test_sm_metadata_fetch_returns_tags(make: MakeProvider, sm: Any) -> None:
    name = unique("app/tagged-")
    sm.create_secret(
        Name=name,
        SecretString="tag-secret",
        Tags=[{"Key": "team", "Value": "a&b"}, {"Key": "env", "Value": "dev"}],
    )
    provider, calls = make()
    ref = RemoteRef(key=name, metadata_policy=MetadataPolicy.FETCH)
    assert provider.get(ref) == b'{"env":"dev","team":"a\\u0026b"}'
    fetch_team = RemoteRef(key=name, property="team", metadata_policy=MetadataPolicy.FETCH)
    assert provider.get(fetch_team) == b"a&b"
    assert calls.count("GetSecretValue") == 0


def test_sm_missing_and_deleted_secrets_are_not_found(make: MakeProvider, sm: Any) -> None:
    deleted = unique("app/deleted-")
    sm.create_secret(Name=deleted, SecretString="gone-value")
    sm.delete_secret(SecretId=deleted, RecoveryWindowInDays=7)
    provider, _ = make()
    with pytest.raises(NotFound) as missing:
        provider.get(RemoteRef(key=unique("absent/")))
    assert isinstance(missing.value.__cause__, Exception)
    with pytest.raises(NotFound):
        provider.get(RemoteRef(key=deleted))
    with pytest.raises(NotFound):
        provider.version(RemoteRef(key=unique("absent/")))


# --- Secrets Manager: find and batching --------------------------------------------------------


def test_sm_find_by_name_path_and_tags(make: MakeProvider, sm: Any) -> None:
    root = unique("find-") + "/"
    for name, tags in [
        ("svc/one", {"team": "a"}),
        ("svc/two", {"team": "b"}),
        ("other/three", {"team": "a", "tier": "x"}),
    ]:
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        sm.create_secret(Name=root + name, SecretString=f"value-{name}", Tags=tag_list)
    provider, calls = make()
    by_name = provider.find(Find(name=FindName(regexp=f"^{root}svc/")))
    assert by_name == {root + "svc/one": b"value-svc/one", root + "svc/two": b"value-svc/two"}
    # A find by name alone lists the whole account: its pages depend on what other tests left in
    # the shared moto. Finds with a path filter on the server: one ListSecrets page each.
    listed_by_name = calls.count("ListSecrets")
    assert listed_by_name >= 1
    by_path = provider.find(Find(path=root + "other", name=FindName(regexp=".")))
    assert by_path == {root + "other/three": b"value-other/three"}
    # Tags are matched as pairs: team=b exists, tier=x exists, but not on the same secret.
    assert provider.find(Find(path=root, tags={"team": "b", "tier": "x"})) == {}
    assert set(provider.find(Find(path=root, tags={"team": "a"}))) == {
        root + "svc/one",
        root + "other/three",
    }
    assert calls.count("GetSecretValue") == 0
    assert calls.count("BatchGetSecretValue") == 3  # one per non-empty find
    assert calls.count("ListSecrets") - listed_by_name == 3


def test_sm_get_many_batches_twenty_ids_per_call(make: MakeProvider, sm: Any) -> None:
    root = unique("batch-") + "/"
    names = [f"{root}{i:02d}" for i in range(25)]
    for name in names:
        sm.create_secret(Name=name, SecretString=json.dumps({"v": name}))
    provider, calls = make()
    refs = [RemoteRef(key=n, property="v") for n in names]
    refs += [RemoteRef(key=names[0]), RemoteRef(key=root + "missing")]
    results = provider.get_many(refs)  # type: ignore[attr-defined]
    assert [results[r] for r in refs[:25]] == [n.encode() for n in names]
    assert results[refs[25]] == json.dumps({"v": names[0]}).encode()
    assert isinstance(results[refs[26]], NotFound)
    assert calls.count("BatchGetSecretValue") == 2  # 26 distinct ids: 20 + 6
    assert calls.count("GetSecretValue") == 0


def test_sm_errors_never_contain_values(make: MakeProvider, sm: Any) -> None:
    value = "TOPSECRET-" + unique("")
    as_json, as_text = unique("app/secretive-"), unique("app/plain-")
    sm.create_secret(Name=as_json, SecretString=json.dumps({"pw": value}))
    sm.create_secret(Name=as_text, SecretString=value)
    provider, _ = make()
    attempts: list[Callable[[], object]] = [
        lambda: provider.get(RemoteRef(key=as_json, property="nope")),
        lambda: provider.get(RemoteRef(key=as_json, version="AWSPENDING")),
        lambda: provider.get(RemoteRef(key=as_text, property="pw")),
        lambda: provider.get_map(RemoteRef(key=as_text)),
    ]
    for attempt in attempts:
        with pytest.raises(SecretSyncError) as caught:
            attempt()
        assert value not in str(caught.value)
        assert value not in repr(caught.value.__cause__)


# --- Parameter Store ---------------------------------------------------------------------------


def test_ssm_get_versions_labels_and_probe(make: MakeProvider, ssm: Any) -> None:
    name = unique("/app/param-")
    ssm.put_parameter(Name=name, Value="first-value", Type="SecureString")
    ssm.put_parameter(
        Name=name, Value='{"a.b":"dotted","o": {"k": 1}}', Type="SecureString", Overwrite=True
    )
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["stable"])
    provider, calls = make("ParameterStore")
    assert provider.get(RemoteRef(key=name, version="1")) == b"first-value"
    assert provider.get(RemoteRef(key=name, version="stable")) == b"first-value"
    assert provider.get(RemoteRef(key=name, property="a.b")) == b"dotted"
    assert provider.get(RemoteRef(key=name, property="o")) == b'{"k": 1}'
    assert provider.get_map(RemoteRef(key=name)) == {"a.b": b"dotted", "o": b'{"k": 1}'}
    assert provider.version(RemoteRef(key=name)) == "2"
    assert provider.version(RemoteRef(key=name, version="stable")) == "1"
    with pytest.raises(NotFound):
        provider.get(RemoteRef(key=name + "-absent"))
    with pytest.raises(NotFound):
        provider.get(RemoteRef(key=name, version="9"))
    assert calls.count("GetParameter") == 9


def test_ssm_metadata_fetch(make: MakeProvider, ssm: Any) -> None:
    name = unique("/app/tagged-")
    ssm.put_parameter(Name=name, Value="v", Type="String", Tags=[{"Key": "owner", "Value": "me"}])
    provider, calls = make("ParameterStore")
    ref = RemoteRef(key=name, metadata_policy=MetadataPolicy.FETCH)
    assert provider.get(ref) == b'{"owner":"me"}'
    assert calls.count("ListTagsForResource") == 1


def test_ssm_find_by_path_recursive_name_and_tags(make: MakeProvider, ssm: Any) -> None:
    root = unique("/find-")
    for name, tags in [
        ("/a/one", {"t": "x"}),
        ("/a/deep/two", {"t": "y"}),
        ("/b/three", {"t": "x"}),
    ]:
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        ssm.put_parameter(Name=root + name, Value=f"val{name}", Type="SecureString", Tags=tag_list)
    provider, calls = make("ParameterStore")
    everything = provider.find(Find(path=root, name=FindName(regexp=".")))
    assert everything == {
        root + "/a/one": b"val/a/one",
        root + "/a/deep/two": b"val/a/deep/two",
        root + "/b/three": b"val/b/three",
    }
    assert set(provider.find(Find(path=root + "/a", name=FindName(regexp="two$")))) == {
        root + "/a/deep/two"
    }
    assert set(provider.find(Find(path=root, tags={"t": "x"}))) == {
        root + "/a/one",
        root + "/b/three",
    }
    assert calls.count("GetParameter") == 0
    assert calls.count("GetParameters") == 1


def test_ssm_get_many_batches_ten_names_per_call(make: MakeProvider, ssm: Any) -> None:
    root = unique("/batch-")
    names = [f"{root}/{i:02d}" for i in range(12)]
    for name in names:
        ssm.put_parameter(Name=name, Value=f"value-{name}", Type="SecureString")
    ssm.put_parameter(Name=names[0], Value="newer", Type="SecureString", Overwrite=True)
    provider, calls = make("ParameterStore")
    refs = [RemoteRef(key=n) for n in names]
    refs += [RemoteRef(key=names[0], version="1"), RemoteRef(key=root + "/missing")]
    results = provider.get_many(refs)  # type: ignore[attr-defined]
    assert results[refs[0]] == b"newer"
    assert [results[r] for r in refs[1:12]] == [f"value-{n}".encode() for n in names[1:]]
    assert results[refs[12]] == f"value-{names[0]}".encode()
    assert isinstance(results[refs[13]], NotFound)
    assert calls.count("GetParameters") == 2  # 13 distinct current names: 10 + 3
    assert calls.count("GetParameter") == 1  # the pinned version is read on its own


# --- auth: AssumeRole chain, web identity, cached credentials ----------------------------------


def _assumed_roles(testbed: stack.Testbed, role_arn: str) -> list[dict[str, Any]]:
    """What moto's STS recorded, from the server's side."""
    url = f"{testbed.AWS_ENDPOINT_URL}/moto-api/data.json"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback test bed
        data = json.load(response)
    return [r for r in data["sts"]["AssumedRole"] if r["role_arn"] == role_arn]


def test_assume_role_chain_with_external_id_is_cached(
    make: MakeProvider, sm: Any, aws_env: stack.Testbed
) -> None:
    name = unique("app/assumed-")
    sm.create_secret(Name=name, SecretString="via-role")
    first, last = (f"arn:aws:iam::123456789012:role/{unique('r')}" for _ in range(2))
    provider, calls = make(
        additionalRoles=[first],
        role=last,
        externalID="ext-1234",
        sessionTags=[{"key": "team", "value": "a"}],
        transitiveTagKeys=["team"],
    )
    for _ in range(3):
        assert provider.get(RemoteRef(key=name)) == b"via-role"
        provider.version(RemoteRef(key=name))
    assert calls.count("AssumeRole") == 2  # once per role in the chain, not per call
    [hop] = _assumed_roles(aws_env, first)
    [final] = _assumed_roles(aws_env, last)
    assert hop["external_id"] is None  # ExternalId belongs to `role` only
    assert final["external_id"] == "ext-1234"
    assert final["session_name"] == "secretsync-aws"


class RecordingCredentials(ClusterCredentials):
    """The real cluster credentials, remembering which tokens were minted."""

    def __init__(self, api: client.ApiClient) -> None:
        super().__init__(api)
        self.tokens: list[str] = []

    def service_account_token(
        self, namespace: str, name: str, audiences: tuple[str, ...], seconds: int
    ) -> str:
        token = super().service_account_token(namespace, name, audiences, seconds)
        self.tokens.append(token)
        return token


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_web_identity_from_a_service_account_token(
    aws_env: stack.Testbed, kube_api: client.ApiClient, namespace: str, sm: Any
) -> None:
    role = f"arn:aws:iam::123456789012:role/{unique('irsa-')}"
    account = client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name="app", annotations={ROLE_ARN_ANNOTATION: role})
    )
    client.CoreV1Api(kube_api).create_namespaced_service_account(namespace, account)
    name = unique("app/irsa-")
    sm.create_secret(Name=name, SecretString="via-web-identity")
    auth = {"jwt": {"serviceAccountRef": {"name": "app"}}}
    spec = store(namespace, "SecretsManager", aws_env.AWS_DEFAULT_REGION, auth)
    credentials, calls = RecordingCredentials(kube_api), Calls()
    ctx = StoreContext(store=spec, namespace=namespace, credentials=credentials, telemetry=calls)
    provider = aws_secretsmanager.factory(ctx)
    assert provider.get(RemoteRef(key=name)) == b"via-web-identity"
    assert provider.get(RemoteRef(key=name)) == b"via-web-identity"
    assert calls.count("AssumeRoleWithWebIdentity") == 1
    assert len(_assumed_roles(aws_env, role)) == 1
    [token] = credentials.tokens
    claims = _claims(token)
    assert claims["aud"] == ["sts.amazonaws.com"]
    assert claims["sub"] == f"system:serviceaccount:{namespace}:app"
    assert claims["exp"] - claims["iat"] <= 3600


def test_web_identity_needs_the_role_annotation(
    make: MakeProvider, kube_api: client.ApiClient, namespace: str
) -> None:
    account = client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="plain"))
    client.CoreV1Api(kube_api).create_namespaced_service_account(namespace, account)
    provider, _ = make(auth={"jwt": {"serviceAccountRef": {"name": "plain"}}})
    with pytest.raises(ConfigError, match=ROLE_ARN_ANNOTATION):
        provider.get(RemoteRef(key="anything"))


# --- endpoints, failures and error mapping -----------------------------------------------------


def test_per_service_endpoint_variables_win(
    make: MakeProvider, sm: Any, ssm: Any, aws_env: stack.Testbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("/app/endpoint-")
    sm.create_secret(Name=name, SecretString="sm-value")
    ssm.put_parameter(Name=name, Value="ssm-value", Type="String")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws_env.AWS_ENDPOINT_URL)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", aws_env.AWS_ENDPOINT_URL)
    assert make()[0].get(RemoteRef(key=name)) == b"sm-value"
    assert make("ParameterStore")[0].get(RemoteRef(key=name)) == b"ssm-value"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_down_is_unavailable(make: MakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    provider, calls = make()
    with pytest.raises(Unavailable, match="GetSecretValue app/x"):
        provider.get(RemoteRef(key="app/x"))
    assert calls.counts[(aws_secretsmanager.PROVIDER, "GetSecretValue", False)] == 1


def test_connection_dropped_mid_call_is_unavailable(
    make: MakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        stop = threading.Event()

        def drop_every_connection() -> None:
            server.settimeout(0.2)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    connection, _ = server.accept()
                    connection.recv(65536)  # the request arrived; now the server "dies"
                    connection.close()

        worker = threading.Thread(target=drop_every_connection, daemon=True)
        worker.start()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.getsockname()[1]}")
        provider, _ = make("ParameterStore")
        try:
            with pytest.raises(Unavailable):
                provider.get(RemoteRef(key="/app/x"))
        finally:
            stop.set()
            worker.join()


def _client_error(code: str, message: str, status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"RequestId": "5f1c-11aa", "HTTPStatusCode": status},
    }
    return ClientError(response, "GetSecretValue")


@pytest.mark.parametrize(
    ("code", "message", "status", "expected"),
    [
        ("ThrottlingException", "Rate exceeded", 400, Throttled),
        ("TooManyRequestsException", "slow down", 400, Throttled),
        ("ResourceNotFoundException", "Secrets Manager can't find it", 400, NotFound),
        ("ParameterNotFound", "", 400, NotFound),
        ("InvalidRequestException", "it was marked for deletion.", 400, NotFound),
        ("InvalidParameterException", "secret was marked for deletion", 400, NotFound),
        ("AccessDeniedException", "not authorized", 400, AccessDenied),
        ("UnrecognizedClientException", "invalid security token", 400, AccessDenied),
        ("ExpiredTokenException", "expired", 400, AccessDenied),
        ("InternalServiceError", "oops", 500, Unavailable),
        ("ServiceUnavailable", "later", 503, Unavailable),
        ("ValidationException", "bad name", 400, ConfigError),
        ("403", "<ErrorResponse><Error><Code>AccessDenied</Code></Error>", 403, AccessDenied),
        ("429", "", 429, Throttled),
    ],
)
def test_client_errors_map_onto_our_hierarchy(
    code: str, message: str, status: int, expected: type[SecretSyncError]
) -> None:
    error = translate("GetSecretValue app/x", _client_error(code, message, status))
    assert type(error) is expected


def test_request_ids_are_stripped_from_messages() -> None:
    text = "User is not authorized (Service: SecretsManager, Request ID: 5f1c-11aa-bb)"
    error = translate("GetSecretValue app/x", _client_error("AccessDeniedException", text))
    assert error is not None
    assert "5f1c" not in str(error)
    assert "User is not authorized" in str(error)


class ThrottlingProxy(http.server.BaseHTTPRequestHandler):
    """Loopback proxy in front of the real moto: the first `throttle` requests get AWS's
    ThrottlingException (moto itself never throttles), the rest are forwarded unchanged."""

    upstream = ""
    throttle = 0
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).seen.append(self.headers.get("X-Amz-Target", ""))
        if len(self.seen) <= self.throttle:
            self._answer(400, b'{"__type":"ThrottlingException","message":"Rate exceeded"}', {})
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        url = self.upstream + self.path  # the test bed's moto, on loopback
        request = urllib.request.Request(url, body, headers, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            self._answer(response.status, response.read(), dict(response.headers))

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", headers.get("Content-Type", "application/x-amz-json-1.1"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


def test_throttling_is_retried_adaptively(
    make: MakeProvider, sm: Any, aws_env: stack.Testbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("app/throttled-")
    sm.create_secret(Name=name, SecretString="after-throttling")
    ThrottlingProxy.upstream, ThrottlingProxy.throttle, ThrottlingProxy.seen = (
        aws_env.AWS_ENDPOINT_URL,
        2,
        [],
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ThrottlingProxy)
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        provider, calls = make()
        assert provider.get(RemoteRef(key=name)) == b"after-throttling"
        assert len(ThrottlingProxy.seen) == 3  # two throttled attempts, then the real answer
        assert calls.counts[(aws_secretsmanager.PROVIDER, "GetSecretValue", True)] == 1
        ThrottlingProxy.seen, ThrottlingProxy.throttle = [], 10
        with pytest.raises(Throttled):  # retries are bounded: then the operator backs off
            provider.get(RemoteRef(key=name))
        assert len(ThrottlingProxy.seen) == 3
    finally:
        server.shutdown()
        server.server_close()
        worker.join()


# --- IAM: the shared moto does not enforce it, so a second, strict moto server does ------------

STRICT_SETUP_ACTIONS = 4  # create user, access key, policy, secret; every later call is checked


@pytest.fixture(scope="module")
def strict_moto() -> Iterator[tuple[str, dict[str, str], str]]:
    """A real moto server with IAM enforcement on (INITIAL_NO_AUTH_ACTION_COUNT), seeded with a
    user who may only DescribeSecret, and one secret. The test bed's moto accepts any key."""
    port = _closed_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(STRICT_SETUP_ACTIONS)}
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port)
        url = f"http://127.0.0.1:{port}"
        yield url, *_seed_strict(url)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise TimeoutError("the strict moto server did not start")


def _seed_strict(url: str) -> tuple[dict[str, str], str]:
    common: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "setup",
        "aws_secret_access_key": "setup-secret",
    }
    iam = boto3.client("iam", **common)
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:DescribeSecret", "Resource": "*"}
        ],
    }
    iam.put_user_policy(UserName="reader", PolicyName="describe", PolicyDocument=json.dumps(policy))
    name = "strict/secret"
    boto3.client("secretsmanager", **common).create_secret(Name=name, SecretString=STRICT_VALUE)
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}, name


STRICT_VALUE = "strict-moto-secret-value"


def test_access_denied_by_policy_and_unknown_keys(
    strict_moto: tuple[str, dict[str, str], str],
    aws_env: stack.Testbed,
    kube_api: client.ApiClient,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, keys, name = strict_moto
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    put_keys(kube_api, namespace, keys["id"], keys["secret"], name="reader")
    put_keys(kube_api, namespace, "AKIAUNKNOWN000000000", "not-a-real-key", name="stranger")
    for secret_name, expected in (("reader", "AccessDenied"), ("stranger", "Unrecognized|Invalid")):
        spec = store(namespace, "SecretsManager", "us-east-1", static_auth(secret_name))
        provider = aws_secretsmanager.factory(context(kube_api, namespace, spec, Calls()))
        with pytest.raises(AccessDenied, match=expected) as denied:
            provider.get(RemoteRef(key=name))
        assert STRICT_VALUE not in str(denied.value)
    # The reader may describe, so the cheap version probe works with the same identity.
    spec = store(namespace, "SecretsManager", "us-east-1", static_auth("reader"))
    reader = aws_secretsmanager.factory(context(kube_api, namespace, spec, Calls()))
    assert reader.version(RemoteRef(key=name))
