"""ESO manifests parse into typed models; bad input names the field and never echoes values."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from secretsync.api import objects
from secretsync.api.aws import AWSProvider
from secretsync.api.fields import Duration
from secretsync.api.sops import SopsProvider
from secretsync.api.sources import ConversionStrategy, DecodingStrategy, StoreKind
from secretsync.api.target import CreationPolicy, DeletionPolicy
from secretsync.api.vault import VaultProvider
from secretsync.errors import ConfigError, Unsupported


def _es(spec: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    return {
        "apiVersion": f"external-secrets.io/{version}",
        "kind": "ExternalSecret",
        "metadata": {"name": "db", "namespace": "team"},
        "spec": spec,
    }


ESO_SPEC = {
    "refreshInterval": "15m",
    "secretStoreRef": {"name": "vault", "kind": "ClusterSecretStore"},
    "target": {"name": "db-creds", "creationPolicy": "Merge"},
    "data": [{"secretKey": "password", "remoteRef": {"key": "db/prod", "property": "pw"}}],
    "dataFrom": [
        {"extract": {"key": "db/common", "decodingStrategy": "Base64"}},
        {
            "find": {"name": {"regexp": "^app-"}, "conversionStrategy": "Unicode"},
            "rewrite": [{"regexp": {"source": "app-(.*)", "target": "$1"}}],
        },
    ],
}


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_an_eso_external_secret_parses_with_its_semantics(version: str) -> None:
    es = objects.parse_external_secret(_es(ESO_SPEC, version))
    spec = es.spec
    assert spec.refresh_interval == datetime.timedelta(minutes=15)
    assert spec.secret_store_ref is not None
    assert spec.secret_store_ref.kind is StoreKind.CLUSTER_SECRET_STORE
    assert (spec.target.creation_policy, spec.target.deletion_policy) == (
        CreationPolicy.MERGE,
        DeletionPolicy.RETAIN,
    )
    assert spec.data[0].remote_ref.property == "pw"
    assert spec.data_from[0].extract is not None
    assert spec.data_from[0].extract.decoding_strategy is DecodingStrategy.BASE64
    assert spec.data_from[1].find is not None
    assert spec.data_from[1].find.conversion_strategy is ConversionStrategy.UNICODE
    assert spec.data_from[1].rewrite[0].regexp is not None
    assert es.target_name == "db-creds"


def test_defaults_follow_eso() -> None:
    es = objects.parse_external_secret(
        _es(
            {
                "secretStoreRef": {"name": "s"},
                "data": [{"secretKey": "k", "remoteRef": {"key": "x"}}],
            }
        )
    )
    assert es.spec.refresh_interval == datetime.timedelta(hours=1)
    assert es.spec.secret_store_ref is not None
    assert es.spec.secret_store_ref.kind is StoreKind.SECRET_STORE
    assert es.spec.target.creation_policy is CreationPolicy.OWNER
    assert es.spec.data[0].remote_ref.decoding_strategy is DecodingStrategy.NONE
    assert es.target_name == "db"
    assert es.spec.rollout is None


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            {"secretStoreRef": {"name": "s"}, "data": [{"secretKey": "k", "remoteRef": {}}]},
            "spec.data[0].remoteRef.key",
            "is required",
        ),
        (
            {
                "secretStoreRef": {"name": "s"},
                "data": [{"secretKey": "k", "remoteRef": {"key": 7}}],
            },
            "spec.data[0].remoteRef.key",
            "must be a str, not a number",
        ),
        (
            {"secretStoreRef": {"name": "s", "kind": "Vault"}, "data": []},
            "spec.secretStoreRef.kind",
            "must be one of SecretStore, ClusterSecretStore",
        ),
        (
            {"secretStoreRef": {"name": "s"}, "dataFrom": [{"rewrite": []}]},
            "spec.dataFrom[0]",
            "set exactly one of: extract, find",
        ),
        ({"secretStoreRef": {"name": "s"}}, "spec", "set data, dataFrom or target.template"),
        (
            {"data": [{"secretKey": "k", "remoteRef": {"key": "x"}}]},
            "spec.data[0]",
            "needs spec.secretStoreRef",
        ),
        (
            {
                "secretStoreRef": {"name": "s"},
                "refreshInterval": "soon",
                "data": [{"secretKey": "k", "remoteRef": {"key": "x"}}],
            },
            "spec.refreshInterval",
            "is not a duration",
        ),
        (
            {
                "secretStoreRef": {"name": "s"},
                "target": {"creationPolicy": "Merge", "deletionPolicy": "Delete"},
                "data": [{"secretKey": "k", "remoteRef": {"key": "x"}}],
            },
            "spec.target.deletionPolicy",
            "needs creationPolicy Owner or Orphan",
        ),
    ],
)
def test_bad_input_names_the_field(spec: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        objects.parse_external_secret(_es(spec))
    assert error.value.field == field
    assert message in str(error.value)


def test_a_wrongly_typed_value_is_never_echoed() -> None:
    secret_value = ["hunter2-very-secret"]
    with pytest.raises(ConfigError) as error:
        objects.parse_external_secret(
            _es(
                {
                    "secretStoreRef": {"name": "s"},
                    "data": [{"secretKey": "k", "remoteRef": {"key": secret_value}}],
                }
            )
        )
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        (
            {
                "vault": {
                    "server": "https://v:8200",
                    "path": "secret",
                    "auth": {"tokenSecretRef": {"name": "t", "key": "token"}},
                }
            },
            VaultProvider,
        ),
        ({"aws": {"service": "SecretsManager", "region": "eu-west-1"}}, AWSProvider),
        (
            {
                "sops": {
                    "git": {"url": "https://git.example/r.git", "ref": {"tag": "v1"}},
                    "decryption": {"secretRef": {"name": "sops-age"}},
                }
            },
            SopsProvider,
        ),
    ],
)
def test_the_store_provider_is_a_tagged_union(provider: dict[str, Any], model: type) -> None:
    store = objects.parse_store(
        {
            "apiVersion": "external-secrets.io/v1beta1",
            "kind": "SecretStore",
            "metadata": {"name": "s"},
            "spec": {"provider": provider},
        }
    )
    assert isinstance(store.spec.provider, model)


def test_an_unsupported_provider_is_named() -> None:
    with pytest.raises(ConfigError) as error:
        objects.parse_store(
            {
                "kind": "SecretStore",
                "metadata": {"name": "s"},
                "spec": {"provider": {"gcpsm": {"projectID": "p"}}},
            }
        )
    assert isinstance(error.value, Unsupported)
    assert error.value.field == "spec.provider.gcpsm"
    assert "use vault, aws or sops" in str(error.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0),
        ("1h", 3600),
        ("1h0m0s", 3600),
        ("90s", 90),
        ("1.5m", 90),
        ("300ms", 0.3),
        ("2h45m", 9900),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert Duration.parse(text, "f").total_seconds() == pytest.approx(seconds)
