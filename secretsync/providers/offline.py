"""Credentials taken from manifests instead of a cluster, for `secretsync render` without
--kubeconfig: Secrets and ConfigMaps given on the command line, and no ServiceAccount tokens."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from secretsync.errors import ConfigError, NotFound


class ManifestCredentials:
    def __init__(self, manifests: Iterable[Mapping[str, Any]], default_namespace: str) -> None:
        self._secrets: dict[tuple[str, str], dict[str, bytes]] = {}
        self._config_maps: dict[tuple[str, str], dict[str, str]] = {}
        self._accounts: dict[tuple[str, str], dict[str, str]] = {}
        for manifest in manifests:
            self._add(manifest, default_namespace)

    def _add(self, manifest: Mapping[str, Any], default_namespace: str) -> None:
        meta = manifest.get("metadata") or {}
        key = (str(meta.get("namespace") or default_namespace), str(meta.get("name")))
        kind = manifest.get("kind")
        if kind == "Secret":
            self._secrets[key] = _secret_data(manifest, key)
        elif kind == "ConfigMap":
            self._config_maps[key] = dict(manifest.get("data") or {})
        elif kind == "ServiceAccount":
            self._accounts[key] = dict(meta.get("annotations") or {})

    def secret_data(self, namespace: str, name: str) -> Mapping[str, bytes]:
        if (namespace, name) not in self._secrets:
            raise NotFound(f"secret {namespace}/{name} is not among the manifests given")
        return self._secrets[(namespace, name)]

    def config_map_data(self, namespace: str, name: str) -> Mapping[str, str]:
        if (namespace, name) not in self._config_maps:
            raise NotFound(f"configmap {namespace}/{name} is not among the manifests given")
        return self._config_maps[(namespace, name)]

    def service_account_token(
        self, namespace: str, name: str, audiences: tuple[str, ...], seconds: int
    ) -> str:
        raise ConfigError(
            f"serviceaccount {namespace}/{name}: a token needs a cluster; pass --kubeconfig"
        )

    def service_account_annotations(self, namespace: str, name: str) -> Mapping[str, str]:
        if (namespace, name) not in self._accounts:
            raise NotFound(f"serviceaccount {namespace}/{name} is not among the manifests given")
        return self._accounts[(namespace, name)]


def _secret_data(manifest: Mapping[str, Any], key: tuple[str, str]) -> dict[str, bytes]:
    data = {k: str(v).encode() for k, v in (manifest.get("stringData") or {}).items()}
    for name, value in (manifest.get("data") or {}).items():
        try:
            data.setdefault(name, base64.b64decode(str(value), validate=True))
        except binascii.Error:
            raise ConfigError(f"secret {key[0]}/{key[1]}: data.{name} is not base64") from None
    return data
