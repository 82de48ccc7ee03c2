"""What this operator can serve, decided from what RBAC allows before any watch starts.

kopf retries a forbidden watch with a traceback per attempt and then drops it without a word,
and a cluster-wide list it cannot make fails at startup. So the operator asks the apiserver
first (SelfSubjectAccessReview, see secretsync.kube.access) and serves only what it may: the
namespaces it was given that it can read and write in, and the cluster-scoped kinds it can list
and watch. A namespace it may not use is named once, with the permission and the setting that
would change it; the others run on. The decisions here are pure; app.py does the asking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from secretsync.api.crds import GROUP
from secretsync.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Access:
    """One permission, as a SelfSubjectAccessReview asks it; namespace None is cluster-wide."""

    verb: str
    group: str
    resource: str
    namespace: str | None = None
    subresource: str = ""

    @property
    def kind(self) -> str:
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{resource}.{self.group}" if self.group else resource

    def describe(self) -> str:
        return f"{self.verb} {self.kind}"


def describe_all(missing: Iterable[Access]) -> str:
    """ "list, watch secrets; patch externalsecrets/status.external-secrets.io": the verbs
    grouped by what they act on, as a Role lists them."""
    verbs: dict[str, list[str]] = {}
    for access in missing:
        verbs.setdefault(access.kind, []).append(access.verb)
    return "; ".join(f"{', '.join(v)} {kind}" for kind, v in verbs.items())


# Without these in a namespace nothing there can be synced: the kinds kopf watches, the Secrets
# the operator writes and watches back, and the status it reports on.
_PER_NAMESPACE: tuple[tuple[str, str, str, str], ...] = (
    ("list", GROUP, "externalsecrets", ""),
    ("watch", GROUP, "externalsecrets", ""),
    ("patch", GROUP, "externalsecrets", "status"),
    ("list", GROUP, "secretstores", ""),
    ("watch", GROUP, "secretstores", ""),
    ("list", GROUP, "pushsecrets", ""),
    ("watch", GROUP, "pushsecrets", ""),
    ("list", "", "secrets", ""),
    ("watch", "", "secrets", ""),
    ("create", "", "secrets", ""),
    ("update", "", "secrets", ""),
)

CLUSTER_KINDS: Mapping[str, tuple[str, str]] = {
    "clustersecretstores": (GROUP, "clustersecretstores"),
    "clusterexternalsecrets": (GROUP, "clusterexternalsecrets"),
    "clusterpushsecrets": (GROUP, "clusterpushsecrets"),
    "namespaces": ("", "namespaces"),
    # kopf follows CRDs being added or changed; without it, only what exists at startup.
    "customresourcedefinitions": ("apiextensions.k8s.io", "customresourcedefinitions"),
}
"""Cluster-scoped kinds the operator watches, each served only when it may list and watch it."""

HOW_TO_GRANT = (
    "Helm: add it to `namespaces` (rbac.scope=namespaced makes a Role there); kustomize: a copy "
    "of deploy/rbac/namespaced/role.yaml in it"
)


def namespace_needs(namespace: str | None) -> list[Access]:
    return [Access(v, g, r, namespace, s) for v, g, r, s in _PER_NAMESPACE]


def cluster_needs(kind: str) -> list[Access]:
    group, resource = CLUSTER_KINDS[kind]
    return [Access("list", group, resource), Access("watch", group, resource)]


def needs(namespaces: tuple[str, ...]) -> list[Access]:
    """Every question to ask: per watched namespace (or cluster-wide when none are given), and
    for each cluster-scoped kind."""
    asked = [a for n in namespaces or (None,) for a in namespace_needs(n)]
    return asked + [a for kind in CLUSTER_KINDS for a in cluster_needs(kind)]


@dataclasses.dataclass(frozen=True)
class Refused:
    namespace: str
    missing: tuple[Access, ...]

    def message(self) -> str:
        verbs = describe_all(self.missing)
        return (
            f"namespace {self.namespace} is not served: this operator may not {verbs} there. "
            f"Grant it ({HOW_TO_GRANT}) and restart the operator, or drop {self.namespace} from "
            "--namespace (SECRETSYNC_NAMESPACE); the other namespaces are served meanwhile"
        )


@dataclasses.dataclass(frozen=True)
class Scope:
    namespaces: tuple[str, ...]
    """Namespaces to serve; empty means the whole cluster."""

    cluster_kinds: frozenset[str]
    """Cluster-scoped kinds (CLUSTER_KINDS keys) the operator may list and watch."""

    refused: tuple[Refused, ...] = ()

    def skipped_cluster_kinds(self) -> list[str]:
        return [k for k in CLUSTER_KINDS if k not in self.cluster_kinds]


class NothingToServe(ConfigError):
    """Not one namespace (or, cluster-wide, not the cluster) may be served: the message says
    which permissions are missing and which setting to change."""


def decide(namespaces: tuple[str, ...], allowed: Mapping[Access, bool]) -> Scope:
    """Scope from the answers to needs(namespaces); an unanswered question counts as refused."""
    kinds = frozenset(
        k for k in CLUSTER_KINDS if all(allowed.get(a, False) for a in cluster_needs(k))
    )
    if not namespaces:
        everywhere = [a for a in namespace_needs(None) if not allowed.get(a, False)]
        if everywhere:
            verbs = describe_all(everywhere)
            raise NothingToServe(
                f"this operator may not {verbs} across the cluster. Grant the ClusterRole "
                "(Helm: rbac.scope=cluster; kustomize: deploy/rbac), or name the namespaces it "
                "may use with --namespace (SECRETSYNC_NAMESPACE; Helm: namespaces with "
                "rbac.scope=namespaced)"
            )
        return Scope((), kinds)
    served: list[str] = []
    refused: list[Refused] = []
    for namespace in namespaces:
        missing = tuple(a for a in namespace_needs(namespace) if not allowed.get(a, False))
        if missing:
            refused.append(Refused(namespace, missing))
        else:
            served.append(namespace)
    if not served:
        raise NothingToServe(" ".join(r.message() for r in refused))
    return Scope(tuple(served), kinds, tuple(refused))
