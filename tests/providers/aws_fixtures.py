"""Helpers for the AWS provider tests: ESO-style stores, keys in a real Kubernetes Secret, a call
counter, and boto3 clients for seeding moto directly."""

from __future__ import annotations

import collections
import uuid
from typing import Any

import boto3
from kubernetes import client

from secretsync.api.objects import SecretStore, parse_store
from secretsync.kube.credentials import ClusterCredentials
from secretsync.providers.base import StoreContext
from tests.testbed import stack

KEYS_SECRET = "aws-keys"


class Calls:
    """Telemetry that counts (operation, ok) per provider, as the operator's metrics would."""

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, str, bool]] = collections.Counter()

    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        self.counts[(provider, operation, ok)] += 1

    def count(self, operation: str) -> int:
        return sum(n for (_, op, _), n in self.counts.items() if op == operation)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def seed_client(testbed: stack.Testbed, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=testbed.AWS_ENDPOINT_URL,
        region_name=testbed.AWS_DEFAULT_REGION,
        aws_access_key_id=testbed.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=testbed.AWS_SECRET_ACCESS_KEY,
    )


def put_keys(
    kube_api: client.ApiClient, namespace: str, key_id: str, secret: str, name: str = KEYS_SECRET
) -> None:
    body = client.V1Secret(
        metadata=client.V1ObjectMeta(name=name),
        string_data={"access-key": key_id, "secret-access-key": secret},
    )
    client.CoreV1Api(kube_api).create_namespaced_secret(namespace, body)


def static_auth(name: str = KEYS_SECRET) -> dict[str, Any]:
    return {
        "secretRef": {
            "accessKeyIDSecretRef": {"name": name, "key": "access-key"},
            "secretAccessKeySecretRef": {"name": name, "key": "secret-access-key"},
        }
    }


def store(
    namespace: str, service: str, region: str, auth: dict[str, Any] | None, **extra: Any
) -> SecretStore:
    aws: dict[str, Any] = {"service": service, "region": region, **extra}
    if auth is not None:
        aws["auth"] = auth
    return parse_store(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": "aws", "namespace": namespace},
            "spec": {"provider": {"aws": aws}},
        }
    )


def context(
    kube_api: client.ApiClient, namespace: str, secret_store: SecretStore, calls: Calls
) -> StoreContext:
    return StoreContext(
        store=secret_store,
        namespace=namespace,
        credentials=ClusterCredentials(kube_api),
        telemetry=calls,
    )
