"""ESO kinds secretsync serves as storage only, for now: the generators.external-secrets.io
kinds it does not run (Password, UUID, SSHKey,
ECRAuthorizationToken, VaultDynamicSecret and ClusterGenerator are typed in generators.py).

Each spec lists ESO's top-level field names (the union of ESO 2.9 and v0.16.2) as kept fields:
the apiserver still refuses a misspelt top-level field, and everything below a field is stored
verbatim, whatever ESO's schema allows there. Until they are typed, a
typo deeper down is not refused (docs/api.md says why this trade-off).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from secretsync.api.fields import kept

GENERATORS_GROUP = "generators.external-secrets.io"
V1ALPHA1 = "v1alpha1"


@dataclasses.dataclass(frozen=True)
class StoredKind:
    kind: str
    plural: str
    group: str
    scope: str
    fields: tuple[str, ...]
    """ESO's top-level spec field names."""

    short_names: tuple[str, ...] = ()
    status_subresource: bool = True
    instead: str = "leave it to ESO for now; secretsync implements this kind in a later release"


_GENERATOR = (
    "secretsync does not run this generator yet: use Password, UUID, SSHKey, "
    "ECRAuthorizationToken or VaultDynamicSecret, or read the value from a store"
)

STORED_KINDS = (
    *(
        StoredKind(kind, plural, GENERATORS_GROUP, scope, fields, instead=_GENERATOR)
        for kind, plural, scope, fields in (
            ("ACRAccessToken", "acraccesstokens", "Namespaced",
             ("auth", "environmentType", "registry", "scope", "tenantId")),
            ("BeyondtrustWorkloadCredentialsDynamicSecret",
             "beyondtrustworkloadcredentialsdynamicsecrets", "Namespaced",
             ("controller", "provider", "retrySettings")),
            ("CloudsmithAccessToken", "cloudsmithaccesstokens", "Namespaced",
             ("apiUrl", "orgSlug", "serviceAccountRef", "serviceSlug")),
            ("Fake", "fakes", "Namespaced", ("controller", "data")),
            ("GCRAccessToken", "gcraccesstokens", "Namespaced", ("auth", "projectID")),
            ("GithubAccessToken", "githubaccesstokens", "Namespaced",
             ("appID", "auth", "installID", "permissions", "repositories", "url")),
            ("GitlabDeployToken", "gitlabdeploytokens", "Namespaced",
             ("auth", "expiresAt", "groupID", "name", "projectID", "scopes", "url", "username")),
            ("Grafana", "grafanas", "Namespaced", ("auth", "serviceAccount", "url")),
            ("MFA", "mfas", "Namespaced", ("algorithm", "length", "secret", "timePeriod", "when")),
            ("QuayAccessToken", "quayaccesstokens", "Namespaced",
             ("robotAccount", "serviceAccountRef", "url")),
            ("STSSessionToken", "stssessiontokens", "Namespaced",
             ("auth", "region", "requestParameters", "role")),
            ("Webhook", "webhooks", "Namespaced",
             ("auth", "body", "caBundle", "caProvider", "headers", "method", "result", "secrets",
              "timeout", "url")),
        )
    ),
    # ESO keeps a generator's state (e.g. a lease to revoke) here; it writes status with the
    # object itself, so there is no status subresource, as in ESO's CRD.
    StoredKind(
        "GeneratorState",
        "generatorstates",
        GENERATORS_GROUP,
        "Namespaced",
        ("garbageCollectionDeadline", "resource", "state"),
        short_names=("gs",),
        status_subresource=False,
        instead=_GENERATOR,
    ),
)  # fmt: skip


def _python_name(json_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", json_name).lower()


def spec_model(stored: StoredKind) -> type:
    """A model whose every field is kept: names listed, values stored verbatim, Unsupported."""
    return dataclasses.make_dataclass(
        f"{stored.kind}Spec",
        [
            (
                _python_name(name),
                Any,
                kept(f"ESO's {stored.kind} spec.{name}.", instead=stored.instead, json=name),
            )
            for name in stored.fields
        ],
        frozen=True,
        kw_only=True,
    )
