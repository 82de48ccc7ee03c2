"""Vault `auth.iam` (eso.md §2.1) against the aws auth method in OpenBao, with moto as STS and IAM.

OpenBao's aws method is configured the way an administrator points it at a private STS: its
`config/client` sends the client's signed sts:GetCallerIdentity to moto and makes its own IAM
calls there. moto runs with authentication enforced (tests/providers/private_moto.py): it checks
every request's SigV4 signature against the IAM user's secret key and evaluates IAM and trust
policies. So a login succeeds only if secretsync signed the request correctly, for the identity
the role is bound to, and OpenBao forwarded it as it would to AWS.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from secretsync.api.sources import RemoteRef
from secretsync.errors import AccessDenied, ConfigError, Unavailable
from tests.providers import private_moto
from tests.providers.private_moto import PrivateMoto
from tests.providers.vault_auth_fixtures import (
    Calls,
    MakeProvider,
    private_bao,
    put_secret,
    reader_policy,
    root,
    uid,
)
from tests.testbed import bao, baoplugins

ACCOUNT = "123456789012"
KEYS_SECRET = "aws-keys"


@pytest.fixture(scope="module")
def sts() -> Iterator[PrivateMoto]:
    for moto in private_moto.start():
        yield moto.enforce_auth()


@pytest.fixture(scope="module")
def server() -> Iterator[bao.Bao]:
    yield from private_bao((baoplugins.AWS_PLUGIN,))


@pytest.fixture
def aws_env(sts: PrivateMoto, monkeypatch: pytest.MonkeyPatch) -> PrivateMoto:
    """Where the store's own STS calls (AssumeRole) go; nothing ambient to fall back on."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", sts.endpoint_url)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return sts


def _aws_mount(server: bao.Bao, sts: PrivateMoto, **client_config: Any) -> str:
    """An aws auth mount whose STS and IAM are moto, with the administrator's keys for OpenBao's
    own IAM calls (it resolves bound ARNs to unique IDs when a role is written)."""
    mount = f"aws-{uid()}"
    admin = root(server)
    admin.sys.enable_auth_method("aws", path=mount)
    admin.write(
        f"auth/{mount}/config/client",
        access_key=sts.admin_key_id or "testbed",  # moto takes any keys until enforcing
        secret_key=sts.admin_secret or "testbed-secret",
        sts_endpoint=sts.endpoint_url,
        iam_endpoint=sts.endpoint_url,
        sts_region=private_moto.REGION,
        **client_config,
    )
    return mount


@pytest.fixture
def app_user(sts: PrivateMoto, kube_api: client.ApiClient, namespace: str) -> dict[str, str]:
    """An IAM user with its access key in the namespace's Secret."""
    iam = sts.client("iam")
    name = f"app-{uid()}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    put_secret(
        kube_api,
        namespace,
        KEYS_SECRET,
        {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"], "wrong": "x" * 40},
    )
    return {
        "name": name,
        "arn": arn,
        "key_id": key["AccessKeyId"],
        "secret": key["SecretAccessKey"],
    }


def _kv_and_role(server: bao.Bao, mount: str, principal_arn: str) -> tuple[str, str]:
    """A secret, a policy that reads it, and an iam role bound to `principal_arn`."""
    prefix = f"iam{uid()}"
    key = f"{prefix}/db"
    admin = root(server)
    admin.secrets.kv.v2.create_or_update_secret(key, secret={"password": "iam-db-s3cret"})
    role = f"role-{uid()}"
    admin.write(
        f"auth/{mount}/role/{role}",
        auth_type="iam",
        bound_iam_principal_arn=principal_arn,
        token_policies=reader_policy(server, prefix),
    )
    return key, role


def _iam_auth(mount: str, vault_role: str, key: str = "secret", **extra: Any) -> dict[str, Any]:
    keys = {
        "accessKeyIDSecretRef": {"name": KEYS_SECRET, "key": "id"},
        "secretAccessKeySecretRef": {"name": KEYS_SECRET, "key": key},
    }
    return {"iam": {"path": mount, "vaultRole": vault_role, "secretRef": keys, **extra}}


def _assert_clean(error: BaseException, user: dict[str, str]) -> None:
    for value in (user["secret"], "iam-db-s3cret"):
        assert value not in str(error)


def test_keys_from_a_secret_log_in_as_the_bound_user(
    server: bao.Bao, aws_env: PrivateMoto, app_user: dict[str, str], make: MakeProvider
) -> None:
    mount = _aws_mount(server, aws_env)
    key, role = _kv_and_role(server, mount, app_user["arn"])
    calls = Calls()
    provider = make(server.addr, _iam_auth(mount, role), calls)
    for _ in range(3):
        assert provider.get(RemoteRef(key=key, property="password")) == b"iam-db-s3cret"
    assert calls.ok["Login"] == 1
    token = provider._token  # type: ignore[attr-defined]
    info = root(server).lookup_token(token.value)["data"]
    assert info["path"] == f"auth/{mount}/login"
    assert info["display_name"] == f"{mount}-{app_user['name']}"
    assert info["meta"]["auth_type"] == "iam"
    assert info["meta"]["account_id"] == ACCOUNT
    # What moto's STS received: the signed GetCallerIdentity, relayed by OpenBao.
    [relayed] = aws_env.requests("GetCallerIdentity")[-1:]
    assert relayed["Version"] == ["2011-06-15"]


def test_a_wrong_secret_key_fails_the_signature_check_at_sts(
    server: bao.Bao, aws_env: PrivateMoto, app_user: dict[str, str], make: MakeProvider
) -> None:
    mount = _aws_mount(server, aws_env)
    key, role = _kv_and_role(server, mount, app_user["arn"])
    with pytest.raises(AccessDenied, match="logging in with iam") as denied:
        make(server.addr, _iam_auth(mount, role, key="wrong")).get(RemoteRef(key=key))
    # moto answered SignatureDoesNotMatch; OpenBao reports that STS's answer was no identity.
    assert "error making upstream request" in str(denied.value)
    _assert_clean(denied.value, app_user)


def test_sts_unreachable_from_the_server_is_an_outage_to_retry(
    server: bao.Bao, aws_env: PrivateMoto, app_user: dict[str, str], make: MakeProvider
) -> None:
    mount = _aws_mount(server, aws_env)
    key, role = _kv_and_role(server, mount, app_user["arn"])
    root(server).write(
        f"auth/{mount}/config/client",
        sts_endpoint=f"http://127.0.0.1:{_closed_port()}",
        max_retries=0,  # OpenBao would retry three times first
    )
    with pytest.raises(Unavailable, match="upstream is unreachable") as down:
        make(server.addr, _iam_auth(mount, role)).get(RemoteRef(key=key))
    _assert_clean(down.value, app_user)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_user_the_role_is_not_bound_to_is_refused(
    server: bao.Bao,
    aws_env: PrivateMoto,
    app_user: dict[str, str],
    make: MakeProvider,
) -> None:
    mount = _aws_mount(server, aws_env)
    other = aws_env.client("iam").create_user(UserName=f"other-{uid()}")["User"]["Arn"]
    key, role = _kv_and_role(server, mount, other)
    with pytest.raises(AccessDenied, match="does not belong to the role") as denied:
        make(server.addr, _iam_auth(mount, role)).get(RemoteRef(key=key))
    _assert_clean(denied.value, app_user)


def test_the_server_id_header_is_signed_in_when_the_server_requires_it(
    server: bao.Bao, aws_env: PrivateMoto, app_user: dict[str, str], make: MakeProvider
) -> None:
    """With iam_server_id_header_value set, OpenBao refuses a request without the header, or
    with another value; vaultAwsIamServerID adds it, inside the signature."""
    mount = _aws_mount(server, aws_env, iam_server_id_header_value="vault.secretsync.test")
    key, role = _kv_and_role(server, mount, app_user["arn"])
    good = _iam_auth(mount, role, vaultAwsIamServerID="vault.secretsync.test")
    provider = make(server.addr, good)
    assert provider.get(RemoteRef(key=key, property="password")) == b"iam-db-s3cret"
    with pytest.raises(AccessDenied, match='missing header "X-Vault-AWS-IAM-Server-ID"'):
        make(server.addr, _iam_auth(mount, role)).get(RemoteRef(key=key))
    stranger = _iam_auth(mount, role, vaultAwsIamServerID="other.example")
    with pytest.raises(AccessDenied, match=r'expected "vault\.secretsync\.test"'):
        make(server.addr, stranger).get(RemoteRef(key=key))
    [signed] = aws_env.requests("GetCallerIdentity")[-1:]
    assert signed["Action"] == ["GetCallerIdentity"]


def _assumable_role(sts: PrivateMoto, user_arn: str, external_id: str) -> str:
    """An IAM role whose trust policy admits the user only with the ExternalId, and a user
    policy that lets the user assume it."""
    iam = sts.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": user_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }
    name = f"vault-login-{uid()}"
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}],
    }
    iam.put_user_policy(
        UserName=user_arn.rsplit("/", 1)[1], PolicyName="assume", PolicyDocument=json.dumps(allow)
    )
    return arn


def test_a_role_is_assumed_with_the_external_id_before_logging_in(
    server: bao.Bao, aws_env: PrivateMoto, app_user: dict[str, str], make: MakeProvider
) -> None:
    """`role` and `externalID`: the login proves the assumed role's identity, which is what the
    Vault role is bound to; the user's own identity would be refused."""
    role_arn = _assumable_role(aws_env, app_user["arn"], "ext-7781")
    mount = _aws_mount(server, aws_env)
    key, vault_role = _kv_and_role(server, mount, role_arn)
    calls = Calls()
    auth = _iam_auth(mount, vault_role, role=role_arn, externalID="ext-7781")
    provider = make(server.addr, auth, calls)
    assert provider.get(RemoteRef(key=key, property="password")) == b"iam-db-s3cret"
    assert calls.ok["AssumeRole"] == 1
    assert calls.ok["Login"] == 1
    [assumed] = aws_env.requests("AssumeRole")[-1:]
    assert assumed["RoleArn"] == [role_arn]
    assert assumed["ExternalId"] == ["ext-7781"]
    wrong = _iam_auth(mount, vault_role, role=role_arn, externalID="ext-0000")
    with pytest.raises(AccessDenied, match="AssumeRole"):
        make(server.addr, wrong).get(RemoteRef(key=key))
    with pytest.raises(AccessDenied, match="does not belong to the role"):
        make(server.addr, _iam_auth(mount, vault_role)).get(RemoteRef(key=key))


def test_the_request_is_signed_for_the_stores_region(
    server: bao.Bao, aws_env: PrivateMoto, app_user: dict[str, str], make: MakeProvider
) -> None:
    """region: the credential scope and the regional STS host moto received (through OpenBao)."""
    mount = _aws_mount(server, aws_env)
    key, role = _kv_and_role(server, mount, app_user["arn"])
    provider = make(server.addr, _iam_auth(mount, role, region="eu-south-1"))
    assert provider.get(RemoteRef(key=key, property="password")) == b"iam-db-s3cret"
    [entry] = aws_env.raw_requests("GetCallerIdentity")[-1:]
    assert "/eu-south-1/sts/aws4_request" in entry["headers"]["Authorization"]
    assert entry["headers"]["Host"] == "sts.eu-south-1.amazonaws.com"
    # A region aws-sdk-go v1 served from the global endpoint: signed for eu-west-1 all the same.
    provider = make(server.addr, _iam_auth(mount, role, region="eu-west-1"))
    assert provider.get(RemoteRef(key=key, property="password")) == b"iam-db-s3cret"
    [entry] = aws_env.raw_requests("GetCallerIdentity")[-1:]
    assert "/eu-west-1/sts/aws4_request" in entry["headers"]["Authorization"]
    assert entry["headers"]["Host"] == "sts.amazonaws.com"


def test_without_credentials_the_operators_own_identity_is_used(
    server: bao.Bao,
    aws_env: PrivateMoto,
    app_user: dict[str, str],
    make: MakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No secretRef and no jwt: the SDK's default chain (here the operator's environment keys,
    as IRSA or Pod Identity would provide them in a cluster); none at all is a clear error."""
    mount = _aws_mount(server, aws_env)
    key, role = _kv_and_role(server, mount, app_user["arn"])
    bare = {"iam": {"path": mount, "vaultRole": role}}
    with pytest.raises(ConfigError, match=r"auth\.iam") as missing:
        make(server.addr, bare).get(RemoteRef(key=key))
    assert "no AWS credentials" in str(missing.value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", app_user["key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", app_user["secret"])
    provider = make(server.addr, bare)
    assert provider.get(RemoteRef(key=key, property="password")) == b"iam-db-s3cret"


@pytest.fixture(scope="module")
def open_sts() -> Iterator[PrivateMoto]:
    """A moto without enforcement: AssumeRoleWithWebIdentity is an unsigned call, which moto's
    enforced mode cannot take (it has no web identity provider to check the token against)."""
    yield from private_moto.start()


def test_web_identity_from_a_service_account_logs_in_as_the_annotated_role(
    server: bao.Bao,
    open_sts: PrivateMoto,
    kube_api: client.ApiClient,
    namespace: str,
    make: MakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`jwt.serviceAccountRef` (IRSA): a token minted for the ServiceAccount, exchanged at STS
    for the role its eks.amazonaws.com/role-arn annotation names; the login proves that role."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", open_sts.endpoint_url)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    trust = {"Version": "2012-10-17", "Statement": []}
    role_name = f"irsa-{uid()}"
    role_arn = open_sts.client("iam").create_role(
        RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    account = client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(
            name="app", annotations={"eks.amazonaws.com/role-arn": role_arn}
        )
    )
    client.CoreV1Api(kube_api).create_namespaced_service_account(namespace, account)
    mount = _aws_mount(server, open_sts)
    key, vault_role = _kv_and_role(server, mount, role_arn)
    calls = Calls()
    auth = {
        "iam": {
            "path": mount,
            "vaultRole": vault_role,
            "jwt": {"serviceAccountRef": {"name": "app"}},
        }
    }
    provider = make(server.addr, auth, calls)
    assert provider.get(RemoteRef(key=key, property="password")) == b"iam-db-s3cret"
    assert calls.ok["AssumeRoleWithWebIdentity"] == 1
    [exchange] = open_sts.requests("AssumeRoleWithWebIdentity")[-1:]
    assert exchange["RoleArn"] == [role_arn]
    token = provider._token  # type: ignore[attr-defined]
    info = root(server).lookup_token(token.value)["data"]
    assert info["display_name"].startswith(f"{mount}-{role_name}")


def test_the_default_mount_is_aws(
    server: bao.Bao, aws_env: PrivateMoto, app_user: dict[str, str], make: MakeProvider
) -> None:
    """ESO's default path is "aws" (and the region us-east-1)."""
    admin = root(server)
    if "aws/" not in admin.sys.list_auth_methods()["data"]:
        admin.sys.enable_auth_method("aws", path="aws")
    admin.write(
        "auth/aws/config/client",
        access_key=aws_env.admin_key_id,
        secret_key=aws_env.admin_secret,
        sts_endpoint=aws_env.endpoint_url,
        iam_endpoint=aws_env.endpoint_url,
    )
    key, role = _kv_and_role(server, "aws", app_user["arn"])
    auth = _iam_auth("unused", role)
    del auth["iam"]["path"]
    assert make(server.addr, auth).get(RemoteRef(key=key, property="password")) == b"iam-db-s3cret"
    [entry] = aws_env.raw_requests("GetCallerIdentity")[-1:]
    assert "/us-east-1/sts/aws4_request" in entry["headers"]["Authorization"]
