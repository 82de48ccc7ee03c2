"""A ClusterSecretStore with given conditions, for tests of namespaceRegexes."""

from __future__ import annotations

from typing import Any

from secretsync.api.objects import parse_store


def cluster_store(conditions: list[dict[str, Any]]) -> Any:
    return parse_store(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": {"name": "shared"},
            "spec": {
                "provider": {
                    "vault": {
                        "server": "https://vault.invalid",
                        "auth": {"tokenSecretRef": {"name": "t", "key": "token"}},
                    }
                },
                "conditions": conditions,
            },
        }
    )
