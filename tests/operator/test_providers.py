"""ESO manifests (v1 and v1beta1) for AWS Secrets Manager, Parameter Store and our SOPS-in-Git
store converge to exactly the expected Secrets through the real operator process (Vault is in
test_sync.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from secretsync.resolve.secret import MANAGED_LABEL
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition, unique
from tests.providers import aws_fixtures
from tests.providers.sops_git_fixtures import WorkTree, age_key, encrypt
from tests.testbed import stack
from tests.testbed.git import GitServer

Start = Callable[..., Operator]
VERSIONS = ("v1", "v1beta1")


def _apply_everywhere(
    kube: Cluster, provider: dict[str, Any], es_spec: Callable[[str], dict[str, Any]]
) -> None:
    """The same store and ExternalSecret once per API version (`store-v1`, `es-v1beta1`...)."""
    for version in VERSIONS:
        kube.apply(
            "secretstores",
            {
                "kind": "SecretStore",
                "metadata": {"name": f"store-{version}"},
                "spec": {"provider": provider},
            },
            version,
        )
        kube.apply(
            "externalsecrets",
            {
                "kind": "ExternalSecret",
                "metadata": {"name": f"es-{version}"},
                "spec": {
                    "refreshInterval": "1h",
                    "secretStoreRef": {"name": f"store-{version}", "kind": "SecretStore"},
                    "target": {"name": f"out-{version}"},
                    **es_spec(version),
                },
            },
            version,
        )


def _converged(kube: Cluster, expected: dict[str, bytes]) -> None:
    for version in VERSIONS:
        got = eventually(lambda v=version: kube.data(f"out-{v}"), what=f"the {version} Secret")
        assert got == expected, version
        secret = kube.secret(f"out-{version}")
        assert secret is not None
        assert secret.type == "Opaque"
        assert secret.metadata.labels == {MANAGED_LABEL: "true"}
        (owner,) = secret.metadata.owner_references
        assert (owner.kind, owner.name) == ("ExternalSecret", f"es-{version}")
        condition(kube, f"es-{version}", "True", "SecretSynced")


def _aws_env(testbed: stack.Testbed) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": testbed.AWS_ENDPOINT_URL}


def _aws_keys(kube: Cluster, testbed: stack.Testbed) -> dict[str, Any]:
    kube.put_secret(
        aws_fixtures.KEYS_SECRET,
        {
            "access-key": testbed.AWS_ACCESS_KEY_ID,
            "secret-access-key": testbed.AWS_SECRET_ACCESS_KEY,
        },
    )
    return aws_fixtures.static_auth()


def test_aws_secrets_manager(kube: Cluster, testbed: stack.Testbed, start_operator: Start) -> None:
    name, password = unique("op/sm"), unique("sm-pw")
    aws_fixtures.seed_client(testbed, "secretsmanager").create_secret(
        Name=name,
        SecretString=json.dumps({"user": "admin", "password": password, "port": 5432}),
    )
    provider = {
        "aws": {
            "service": "SecretsManager",
            "region": testbed.AWS_DEFAULT_REGION,
            "auth": _aws_keys(kube, testbed),
        }
    }
    _apply_everywhere(
        kube,
        provider,
        lambda _: {
            "data": [
                {"secretKey": "pw", "remoteRef": {"key": name, "property": "password"}},
            ],
            "dataFrom": [{"extract": {"key": name}}],
        },
    )
    start_operator(env=_aws_env(testbed))
    _converged(
        kube,
        {"user": b"admin", "password": password.encode(), "port": b"5432", "pw": password.encode()},
    )


def test_aws_parameter_store(kube: Cluster, testbed: stack.Testbed, start_operator: Start) -> None:
    prefix, password = f"/{unique('op')}", unique("ssm-pw")
    ssm = aws_fixtures.seed_client(testbed, "ssm")
    ssm.put_parameter(Name=f"{prefix}/password", Value=password, Type="SecureString")
    ssm.put_parameter(
        Name=f"{prefix}/config", Value=json.dumps({"host": "db", "tls": True}), Type="String"
    )
    provider = {
        "aws": {
            "service": "ParameterStore",
            "region": testbed.AWS_DEFAULT_REGION,
            "auth": _aws_keys(kube, testbed),
        }
    }
    _apply_everywhere(
        kube,
        provider,
        lambda _: {
            "data": [
                {"secretKey": "password", "remoteRef": {"key": f"{prefix}/password"}},
                {"secretKey": "host", "remoteRef": {"key": f"{prefix}/config", "property": "host"}},
            ],
            "dataFrom": [{"extract": {"key": f"{prefix}/config"}}],
        },
    )
    start_operator(env=_aws_env(testbed))
    _converged(kube, {"password": password.encode(), "host": b"db", "tls": b"true"})


def test_sops_in_git(
    kube: Cluster,
    *,
    git_server: GitServer,
    sops_bin: Path,
    age_keygen_bin: Path,
    tmp_path: Path,
    start_operator: Start,
) -> None:
    key = age_key(age_keygen_bin, tmp_path, "age")
    url = git_server.create_repo(unique("op-sops"))
    tree = WorkTree(tmp_path / "work", url)
    password = unique("sops-pw")
    plain = f"user: admin\npassword: {password}\nnested:\n  port: 5432\n".encode()
    tree.write("clusters/prod/db.yaml", encrypt(sops_bin, key, "db.yaml", plain, tmp_path))
    tree.commit("db")
    kube.put_secret("sops-age", {"identity.agekey": key.identity})
    provider = {
        "sops": {
            "git": {"url": url, "ref": {"branch": "main"}, "path": "clusters/prod"},
            "decryption": {"secretRef": {"name": "sops-age"}},
        }
    }
    _apply_everywhere(
        kube,
        provider,
        lambda _: {
            "data": [
                {"secretKey": "port", "remoteRef": {"key": "db.yaml", "property": "nested.port"}}
            ],
            "dataFrom": [{"extract": {"key": "db.yaml"}}],
        },
    )
    start_operator()
    _converged(
        kube,
        {
            "user": b"admin",
            "password": password.encode(),
            "nested": b'{"port":5432}',
            "port": b"5432",
        },
    )
