"""Ask the apiserver what this client may do (SelfSubjectAccessReview), so the operator can
leave out what RBAC forbids instead of failing on it (secretsync.operator.scope decides)."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from secretsync.kube.client import mapped


def allowed(
    api: client.ApiClient,
    *,
    verb: str,
    group: str,
    resource: str,
    namespace: str | None = None,
    subresource: str = "",
) -> bool:
    """Whether this client may `verb` the resource in `namespace` (None: across the cluster).
    Every authenticated user may ask this (the system:basic-user ClusterRole)."""
    review = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                verb=verb,
                group=group,
                resource=resource,
                namespace=namespace or "",
                subresource=subresource or None,
            )
        )
    )
    with mapped(f"asking whether this operator may {verb} {resource}"):
        answer: Any = client.AuthorizationV1Api(api).create_self_subject_access_review(review)
    return bool(answer.status and answer.status.allowed)
