"""Seed the demo's sources on the local stack: OpenBao, moto, and a Git repository of SOPS
files encrypted with secretsync itself."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
import hvac

from tests.testbed import bao, paths, stack

NAMESPACE = "demo"


def seed_vault(testbed: stack.Testbed) -> None:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    vault.secrets.kv.v2.create_or_update_secret(
        "demo/database", secret={"username": "app", "password": "correct-horse-battery"}
    )
    vault.secrets.kv.v2.create_or_update_secret(
        "demo/payments", secret={"api_key": "pk_demo_123", "webhook_secret": "whsec_demo"}
    )
    vault.sys.create_or_update_policy(
        "demo-read", 'path "secret/data/demo/*" { capabilities = ["read"] }'
    )
    bao.request(
        bao.Bao(testbed.VAULT_ADDR, testbed.VAULT_TOKEN),
        "POST",
        "auth/kubernetes/role/demo-payments",
        {
            "bound_service_account_names": ["payments"],
            "bound_service_account_namespaces": [NAMESPACE],
            "audience": "openbao",
            "token_policies": ["demo-read"],
            "token_ttl": "1h",
        },
    )


def seed_aws(testbed: stack.Testbed) -> None:
    options = {
        "endpoint_url": testbed.AWS_ENDPOINT_URL,
        "region_name": testbed.AWS_DEFAULT_REGION,
        "aws_access_key_id": testbed.AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": testbed.AWS_SECRET_ACCESS_KEY,
    }
    secrets = boto3.client("secretsmanager", **options)
    value = json.dumps({"key": "sk_demo_456", "endpoint": "https://api.example", "live": False})
    try:
        secrets.create_secret(Name="demo/stripe", SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId="demo/stripe", SecretString=value)
    ssm = boto3.client("ssm", **options)
    for name, flag in (("checkout-v2", "on"), ("dark-mode", "off")):
        ssm.put_parameter(Name=f"/demo/flags/{name}", Value=flag, Type="String", Overwrite=True)


def _secretsync(*args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=paths.REPO_ROOT,
        env={**os.environ, **(env or {})},
    ).stdout


def seed_git(testbed: stack.Testbed) -> dict[str, str]:
    """A repository with one SOPS file; returns the values examples/sops-git.yaml needs."""
    identity = _secretsync("keygen")
    recipient = next(
        line.split(": ")[1] for line in identity.splitlines() if line.startswith("# public key: ")
    )
    url = testbed.git_server().create_repo("platform-secrets")
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work)
        folder = tree / "clusters" / "demo"
        folder.mkdir(parents=True)
        plain = folder / "redis.yaml"
        plain.write_text(
            "redis:\n    password: redis-demo-pass\ntls:\n    ca: demo-ca\n    mode: verify-full\n"
        )
        _secretsync("encrypt", "--age", recipient, "--in-place", str(plain))
        git = ["git", "-c", "user.name=demo", "-c", "user.email=demo@example.com"]
        for args in (
            ["init", "-q", "-b", "main"],
            ["add", "-A"],
            ["commit", "-qm", "secrets"],
            ["push", "-q", "--force", url, "main"],
        ):
            subprocess.run([*git, *args], cwd=tree, check=True, capture_output=True)
    return {"DEMO_GIT_URL": url, "DEMO_AGE_KEY_B64": base64.b64encode(identity.encode()).decode()}
