"""`secretsync render` end to end: ESO-style manifests for every provider, resolved against the
real OpenBao, moto and loopback Git server, print exactly the Secrets the operator would write."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import boto3
import hvac
import pytest

from secretsync.resolve.secret import data_hash
from secretsync.sops.yamlplain import load_documents
from tests.providers.sops_git_fixtures import WorkTree, age_key, encrypt
from tests.testbed import stack
from tests.testbed.git import GitServer

SEEDED = ["s3cr3t-<&>-value", "aws-secret-value-1", "ssm-secret-value-2", "sops-git-value-3"]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _render(
    manifests: str, tmp_path: Path, testbed: stack.Testbed, *args: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "manifests.yaml"
    path.write_text(manifests)
    env = {**os.environ, "AWS_ENDPOINT_URL": testbed.AWS_ENDPOINT_URL}
    return subprocess.run(
        [sys.executable, "-m", "secretsync", "render", "-f", str(path), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.fixture
def sources(
    testbed: stack.Testbed,
    git_server: GitServer,
    sops_bin: Path,
    age_keygen_bin: Path,
    tmp_path: Path,
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    vault.secrets.kv.v2.create_or_update_secret(
        f"render/{tag}", secret={"password": SEEDED[0], "port": 5432, "tls": {"on": True}}
    )
    aws = {
        "endpoint_url": testbed.AWS_ENDPOINT_URL,
        "region_name": testbed.AWS_DEFAULT_REGION,
        "aws_access_key_id": testbed.AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": testbed.AWS_SECRET_ACCESS_KEY,
    }
    boto3.client("secretsmanager", **aws).create_secret(
        Name=f"render/{tag}", SecretString=json.dumps({"token": SEEDED[1], "n": 1})
    )
    boto3.client("ssm", **aws).put_parameter(
        Name=f"/render/{tag}", Value=SEEDED[2], Type="SecureString"
    )
    key = age_key(age_keygen_bin, tmp_path, "age")
    url = git_server.create_repo(f"render-{tag}")
    tree = WorkTree(tmp_path / "repo", url)
    plain = f"app:\n    api_key: {SEEDED[3]}\n".encode()
    tree.write("prod/app.yaml", encrypt(sops_bin, key, "app.yaml", plain, tmp_path / "enc"))
    tree.commit("secrets")
    return {"tag": tag, "age": key.identity, "git": url}


def _manifests(testbed: stack.Testbed, src: dict[str, Any], version: str) -> str:
    tag = src["tag"]
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: vault-token}}
        stringData: {{token: {testbed.VAULT_TOKEN}}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: aws-keys}}
        stringData: {{id: {testbed.AWS_ACCESS_KEY_ID}, secret: {testbed.AWS_SECRET_ACCESS_KEY}}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: sops-age}}
        data: {{age.agekey: {_b64(src["age"])}}}
        ---
        apiVersion: external-secrets.io/{version}
        kind: SecretStore
        metadata: {{name: vault}}
        spec:
          provider:
            vault:
              server: {testbed.VAULT_ADDR}
              path: secret
              version: v2
              auth: {{tokenSecretRef: {{name: vault-token, key: token}}}}
        ---
        apiVersion: external-secrets.io/{version}
        kind: ClusterSecretStore
        metadata: {{name: aws-sm}}
        spec:
          provider:
            aws:
              service: SecretsManager
              region: {testbed.AWS_DEFAULT_REGION}
              auth: {{secretRef: {{accessKeyIDSecretRef: {{name: aws-keys, key: id}},
                      secretAccessKeySecretRef: {{name: aws-keys, key: secret}}}}}}
        ---
        apiVersion: external-secrets.io/{version}
        kind: SecretStore
        metadata: {{name: ssm}}
        spec:
          provider:
            aws:
              service: ParameterStore
              region: {testbed.AWS_DEFAULT_REGION}
              auth: {{secretRef: {{accessKeyIDSecretRef: {{name: aws-keys, key: id}},
                      secretAccessKeySecretRef: {{name: aws-keys, key: secret}}}}}}
        ---
        apiVersion: external-secrets.io/{version}
        kind: SecretStore
        metadata: {{name: git}}
        spec:
          provider:
            sops:
              git: {{url: "{src["git"]}", ref: {{branch: main}}, path: prod}}
              decryption: {{secretRef: {{name: sops-age}}}}
        ---
        apiVersion: external-secrets.io/{version}
        kind: ExternalSecret
        metadata: {{name: app, labels: {{team: payments}}}}
        spec:
          refreshInterval: 1h
          secretStoreRef: {{name: vault, kind: SecretStore}}
          target: {{name: app-secret}}
          dataFrom:
            - extract: {{key: render/{tag}}}
          data:
            - secretKey: whole
              remoteRef: {{key: render/{tag}}}
            - secretKey: aws-token
              remoteRef: {{key: render/{tag}, property: token}}
              sourceRef: {{storeRef: {{name: aws-sm, kind: ClusterSecretStore}}}}
            - secretKey: ssm
              remoteRef: {{key: /render/{tag}}}
              sourceRef: {{storeRef: {{name: ssm}}}}
            - secretKey: api-key
              remoteRef: {{key: app.yaml, property: app.api_key}}
              sourceRef: {{storeRef: {{name: git}}}}
        """)


EXPECTED_DATA = {
    "password": SEEDED[0].encode(),
    "port": b"5432",
    "tls": b'{"on":true}',
    "whole": (
        b'{"password":"s3cr3t-\\u003c\\u0026\\u003e-value","port":5432,"tls":{"on":true}}'
    ),
    "aws-token": SEEDED[1].encode(),
    "ssm": SEEDED[2].encode(),
    "api-key": SEEDED[3].encode(),
}


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_render_prints_the_secret_every_provider_yields(
    testbed: stack.Testbed, sources: dict[str, Any], tmp_path: Path, version: str
) -> None:
    result = _render(_manifests(testbed, sources, version), tmp_path, testbed)
    assert result.returncode == 0, result.stderr
    (secret,) = load_documents(result.stdout, "stdout")
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "app-secret",
            "namespace": "default",
            "labels": {"reconcile.external-secrets.io/managed": "true", "team": "payments"},
            "annotations": {"reconcile.external-secrets.io/data-hash": data_hash(EXPECTED_DATA)},
        },
        "type": "Opaque",
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(EXPECTED_DATA.items())},
    }
    assert result.stdout.startswith("---\napiVersion: v1\nkind: Secret\nmetadata:\n")


def test_render_json_is_one_kubernetes_list(
    testbed: stack.Testbed, sources: dict[str, Any], tmp_path: Path
) -> None:
    result = _render(_manifests(testbed, sources, "v1"), tmp_path, testbed, "-o", "json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert (listing["apiVersion"], listing["kind"]) == ("v1", "List")
    assert [item["metadata"]["name"] for item in listing["items"]] == ["app-secret"]


def test_a_failing_external_secret_is_reported_without_its_values(
    testbed: stack.Testbed, sources: dict[str, Any], tmp_path: Path
) -> None:
    manifests = _manifests(testbed, sources, "v1").replace(
        f"key: /render/{sources['tag']}", "key: /render/does-not-exist"
    )
    result = _render(manifests, tmp_path, testbed)
    assert result.returncode == 1
    assert "ExternalSecret app: spec.data[2] (key '/render/does-not-exist')" in result.stderr
    for value in SEEDED:
        assert value not in result.stderr
    assert result.stdout == ""
