"""The Vault store fields of this issue as parsed models, and the iam login body (pure parts).

The logins themselves are proven against real servers in test_vault_auth_ldap.py and
test_vault_auth_iam.py; here: ESO's defaults, ESO's method order, the validation messages, and
the exact shape of the signed request the aws auth method parses.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.credentials import Credentials

from secretsync.api.objects import parse_store
from secretsync.api.vault import VaultIamAuth, VaultLdapAuth, VaultProvider
from secretsync.errors import ConfigError
from secretsync.providers.aws_signing import sign_caller_identity, sts_url
from secretsync.providers.vault_auth import iam_body


def _vault(**fields: Any) -> VaultProvider:
    spec = {"server": "https://vault:8200", **fields}
    store = parse_store(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": "v", "namespace": "n"},
            "spec": {"provider": {"vault": spec}},
        }
    )
    provider = store.spec.provider
    assert isinstance(provider, VaultProvider)
    return provider


PASSWORD_REF = {"name": "pw", "key": "password"}


def test_ldap_defaults_to_the_ldap_mount() -> None:
    method = _vault(auth={"ldap": {"username": "alice", "secretRef": PASSWORD_REF}}).auth.method()
    assert isinstance(method, VaultLdapAuth)
    assert (method.path, method.username, method.secret_ref.name) == ("ldap", "alice", "pw")


def test_iam_defaults_follow_eso() -> None:
    method = _vault(auth={"iam": {"vaultRole": "app"}}).auth.method()
    assert isinstance(method, VaultIamAuth)
    assert (method.path, method.region, method.role, method.secret_ref) == (
        "aws",
        "us-east-1",
        None,
        None,
    )


def test_iam_needs_a_vault_role() -> None:
    with pytest.raises(ConfigError) as missing:
        _vault(auth={"iam": {"region": "eu-west-1"}})
    assert missing.value.field == "spec.provider.vault.auth.iam.vaultRole"


def test_the_first_method_in_esos_order_wins() -> None:
    """ESO's setAuth order: token, appRole, kubernetes, ldap, userPass, jwt, cert, iam."""
    both = {
        "iam": {"vaultRole": "app"},
        "ldap": {"username": "alice", "secretRef": PASSWORD_REF},
        "userPass": {"username": "bob", "secretRef": PASSWORD_REF},
    }
    assert isinstance(_vault(auth=both).auth.method(), VaultLdapAuth)
    del both["ldap"], both["userPass"]
    assert isinstance(_vault(auth=both).auth.method(), VaultIamAuth)


def test_no_method_names_every_choice() -> None:
    with pytest.raises(ConfigError, match="ldap, userPass, jwt, cert, iam"):
        _vault(auth={})


def test_check_and_set_is_kept_and_refused_on_kv_v1() -> None:
    assert _vault(auth={"tokenSecretRef": PASSWORD_REF}).check_and_set is None
    required = _vault(auth={"tokenSecretRef": PASSWORD_REF}, checkAndSet={"required": True})
    assert required.check_and_set is not None
    assert required.check_and_set.required is True
    _vault(auth={"tokenSecretRef": PASSWORD_REF}, version="v1", checkAndSet={"required": False})
    with pytest.raises(ConfigError, match="not supported with KV version v1") as refused:
        _vault(auth={"tokenSecretRef": PASSWORD_REF}, version="v1", checkAndSet={"required": True})
    assert refused.value.field == "spec.provider.vault.checkAndSet.required"


def test_gcp_auth_is_unsupported_and_names_the_methods_we_have() -> None:
    with pytest.raises(ConfigError) as refused:
        _vault(auth={"gcp": {"role": "r"}})
    assert "spec.provider.vault.auth.gcp" in str(refused.value)
    assert "ldap" in str(refused.value) and "iam" in str(refused.value)


# --- the signed request --------------------------------------------------------------------

KEYS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-tok")


def _decoded(body: dict[str, str]) -> tuple[str, str, dict[str, list[str]]]:
    url = base64.b64decode(body["iam_request_url"]).decode()
    text = base64.b64decode(body["iam_request_body"]).decode()
    headers = json.loads(base64.b64decode(body["iam_request_headers"]))
    return url, text, headers


def test_the_login_body_is_the_signed_get_caller_identity() -> None:
    body = iam_body("app", sign_caller_identity(KEYS, "us-east-1", None))
    assert body["role"] == "app"
    assert body["iam_http_request_method"] == "POST"
    url, text, headers = _decoded(body)
    assert url == "https://sts.amazonaws.com/"
    assert text == "Action=GetCallerIdentity&Version=2011-06-15"
    [authorization] = headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/sts/aws4_request" in authorization
    assert headers["X-Amz-Security-Token"] == ["session-tok"]
    assert "X-Vault-AWS-IAM-Server-ID" not in headers
    assert KEYS.secret_key not in json.dumps(body)


def test_region_and_server_id_are_signed_in() -> None:
    body = iam_body("app", sign_caller_identity(KEYS, "eu-south-1", "vault.example.com"))
    url, _, headers = _decoded(body)
    assert url == "https://sts.eu-south-1.amazonaws.com/"
    assert headers["X-Vault-AWS-IAM-Server-ID"] == ["vault.example.com"]
    [authorization] = headers["Authorization"]
    assert "/eu-south-1/sts/aws4_request" in authorization
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-vault-aws-iam-server-id" in signed
    assert "host" in signed


@pytest.mark.parametrize(
    ("region", "setting", "url"),
    [
        ("eu-west-1", None, "https://sts.amazonaws.com/"),  # a legacy global region
        ("eu-west-1", "legacy", "https://sts.amazonaws.com/"),
        ("eu-west-1", "regional", "https://sts.eu-west-1.amazonaws.com/"),
        ("us-east-1", "regional", "https://sts.us-east-1.amazonaws.com/"),
        ("af-south-1", None, "https://sts.af-south-1.amazonaws.com/"),  # never had it
    ],
)
def test_the_signed_url_follows_the_go_sdks_sts_endpoints(
    region: str, setting: str | None, url: str
) -> None:
    """What ESO's client (aws-sdk-go v1) signs: the global endpoint for its legacy regions
    unless AWS_STS_REGIONAL_ENDPOINTS=regional."""
    assert sts_url(region, setting) == url
