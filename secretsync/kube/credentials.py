"""Credentials read from the cluster: the Secrets, ConfigMaps and ServiceAccount tokens that
stores refer to. Only the operator's own RBAC (deploy/) decides what it may read."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from kubernetes import client

from secretsync.errors import Unavailable
from secretsync.kube.client import mapped


class ClusterCredentials:
    def __init__(self, api: client.ApiClient) -> None:
        self._core = client.CoreV1Api(api)

    def secret_data(self, namespace: str, name: str) -> Mapping[str, bytes]:
        with mapped(f"reading secret {namespace}/{name}"):
            secret = self._core.read_namespaced_secret(name, namespace)
        return {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}

    def config_map_data(self, namespace: str, name: str) -> Mapping[str, str]:
        with mapped(f"reading configmap {namespace}/{name}"):
            config_map = self._core.read_namespaced_config_map(name, namespace)
        return dict(config_map.data or {})

    def service_account_token(
        self, namespace: str, name: str, audiences: tuple[str, ...], seconds: int
    ) -> str:
        spec = client.V1TokenRequestSpec(audiences=list(audiences), expiration_seconds=seconds)
        with mapped(f"requesting a token for serviceaccount {namespace}/{name}"):
            response = self._core.create_namespaced_service_account_token(
                name, namespace, client.AuthenticationV1TokenRequest(spec=spec)
            )
        if response.status is None:
            raise Unavailable(f"serviceaccount {namespace}/{name}: TokenRequest returned no token")
        return str(response.status.token)

    def service_account_annotations(self, namespace: str, name: str) -> Mapping[str, str]:
        with mapped(f"reading serviceaccount {namespace}/{name}"):
            account = self._core.read_namespaced_service_account(name, namespace)
        metadata = account.metadata
        return dict((metadata.annotations if metadata else None) or {})
