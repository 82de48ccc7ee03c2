"""Which store an ExternalSecret may use: a SecretStore only in its own namespace, a
ClusterSecretStore only where its conditions allow (names, regexes, label selectors; ORed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secretsync import goregexp
from secretsync.api.objects import CLUSTER_SECRET_STORE, SecretStore
from secretsync.errors import AccessDenied


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A Kubernetes LabelSelector (matchLabels and matchExpressions)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        wanted = set(expression.get("values") or [])
        present = key in labels
        ok = {
            "In": present and labels.get(key) in wanted,
            "NotIn": not present or labels.get(key) not in wanted,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(str(operator), False)
        if not ok:
            return False
    return True


def cluster_store_allows(store: SecretStore, namespace: str, labels: Mapping[str, str]) -> bool:
    """ESO's order: per condition, names and the selector, then the regexes (Go's MatchString,
    on RE2), so a bad regex is an error only when nothing before it allowed the namespace."""
    if not store.spec.conditions:
        return True
    for i, condition in enumerate(store.spec.conditions):
        if namespace in condition.namespaces:
            return True
        selector = condition.namespace_selector
        if isinstance(selector, Mapping) and selector_matches(selector, labels):
            return True
        for j, pattern in enumerate(condition.namespace_regexes):
            where = f"{store.kind} {store.metadata.name} spec.conditions[{i}].namespaceRegexes[{j}]"
            if goregexp.match_string(pattern, namespace, field=where):
                return True
    return False


def check_access(store: SecretStore, namespace: str, labels: Mapping[str, str]) -> None:
    if store.kind == CLUSTER_SECRET_STORE and not cluster_store_allows(store, namespace, labels):
        raise AccessDenied(
            f"ClusterSecretStore {store.metadata.name} does not allow namespace {namespace} "
            "(see its spec.conditions)"
        )
