"""AWS store `sessionTags`, `transitiveTagKeys`, `sessionTagsPolicy` and `customSessionTags`
(eso.md §3.1): what really reaches sts:AssumeRole, read from a private moto's request log.

moto accepts session tags but keeps no record of them, so its recorder (every request it
receives, as sent) is the witness; the shared moto is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from secretsync.api.objects import parse_store
from secretsync.api.sources import RemoteRef
from secretsync.errors import ConfigError
from secretsync.kube.credentials import ClusterCredentials
from secretsync.providers import aws_secretsmanager
from secretsync.providers.base import StoreContext
from tests.providers import private_moto
from tests.providers.private_moto import PrivateMoto
from tests.providers.vault_auth_fixtures import Calls, put_secret, uid

ROLE = "arn:aws:iam::123456789012:role/{name}"


@pytest.fixture(scope="module")
def sts() -> Iterator[PrivateMoto]:
    yield from private_moto.start()


@pytest.fixture
def build(
    sts: PrivateMoto, kube_api: client.ApiClient, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Read one secret through a store with these aws fields; returns what AssumeRole got."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", sts.endpoint_url)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    put_secret(kube_api, namespace, "keys", {"id": "AKIDTAGS", "secret": "tags-secret"})
    name = f"tags/{uid()}"
    sts.client("secretsmanager").create_secret(Name=name, SecretString="tagged")

    def read(kind: str = "SecretStore", **aws: Any) -> dict[str, list[str]]:
        role = ROLE.format(name=uid())
        keys = {
            "accessKeyIDSecretRef": {"name": "keys", "key": "id", "namespace": namespace},
            "secretAccessKeySecretRef": {"name": "keys", "key": "secret", "namespace": namespace},
        }
        spec = {"service": "SecretsManager", "region": "us-east-1", "role": role, **aws}
        spec["auth"] = {"secretRef": keys}
        metadata = {"name": "tagged-store"}
        if kind == "SecretStore":
            metadata["namespace"] = namespace
        store = parse_store(
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": kind,
                "metadata": metadata,
                "spec": {"provider": {"aws": spec}},
            }
        )
        ctx = StoreContext(store, namespace, ClusterCredentials(kube_api), Calls())
        provider = aws_secretsmanager.factory(ctx)
        try:
            assert provider.get(RemoteRef(key=name)) == b"tagged"
        finally:
            provider.close()
        return next(r for r in sts.requests("AssumeRole") if r["RoleArn"] == [role])

    return read


def _tags(request: dict[str, list[str]]) -> dict[str, str]:
    tags = {}
    for field, value in request.items():
        if field.startswith("Tags.member.") and field.endswith(".Key"):
            tags[value[0]] = request[field.removesuffix(".Key") + ".Value"][0]
    return tags


def _transitive(request: dict[str, list[str]]) -> list[str]:
    keys = sorted(k for k in request if k.startswith("TransitiveTagKeys.member."))
    return [request[k][0] for k in keys]


def test_session_tags_and_transitive_keys_reach_assume_role(build: Any) -> None:
    sent = build(
        sessionTags=[{"key": "team", "value": "payments"}, {"key": "env", "value": "prod"}],
        transitiveTagKeys=["team"],
    )
    assert _tags(sent) == {"team": "payments", "env": "prod"}
    assert _transitive(sent) == ["team"]


def test_no_tags_sends_no_tag_parameters(build: Any) -> None:
    sent = build()
    assert _tags(sent) == {}
    assert _transitive(sent) == []


def test_policy_simple_tags_the_session_with_the_store_and_namespace(
    build: Any, namespace: str
) -> None:
    """ESO replaces the store's sessionTags with the three identity tags."""
    sent = build(sessionTagsPolicy="Simple", sessionTags=[{"key": "team", "value": "x"}])
    assert _tags(sent) == {
        "esoNamespace": namespace,
        "esoStoreName": "tagged-store",
        "esoStoreKind": "SecretStore",
    }


def test_policy_custom_adds_custom_tags_and_a_cluster_store_tags_the_referent_namespace(
    build: Any, namespace: str
) -> None:
    sent = build(
        "ClusterSecretStore",
        sessionTagsPolicy="Custom",
        customSessionTags={"team": "payments", "empty": ""},
        transitiveTagKeys=["team"],
    )
    assert _tags(sent) == {
        "team": "payments",  # an empty value is dropped, as ESO does
        "esoNamespace": namespace,
        "esoStoreName": "tagged-store",
        "esoStoreKind": "ClusterSecretStore",
    }
    assert _transitive(sent) == ["team"]


def test_custom_tags_may_not_claim_the_reserved_keys() -> None:
    raw = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "SecretStore",
        "metadata": {"name": "s", "namespace": "n"},
        "spec": {
            "provider": {
                "aws": {
                    "service": "SecretsManager",
                    "region": "us-east-1",
                    "sessionTagsPolicy": "Custom",
                    "customSessionTags": {"esoNamespace": "spoofed", "team": "a"},
                }
            }
        },
    }
    with pytest.raises(ConfigError, match="esoNamespace") as refused:
        parse_store(raw)
    assert refused.value.field == "spec.provider.aws.customSessionTags"
