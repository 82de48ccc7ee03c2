"""The one small interface every generator implements, what it is given, and the registry.

A generator turns its typed spec (api/generators.py) into the values of one run: key -> bytes.
It runs again on every refresh, as ESO's do; whether a refresh happens is the ExternalSecret's
refreshPolicy (reconcile/refresh.py), not the generator's concern.

A generator whose values carry something to clean up later (VaultDynamicSecret: a lease to renew
and revoke) reports it through `ctx.on_lease`; the sync records it beside the credential
(generators/leases.py). The others keep no state.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Any, Protocol

from secretsync.api.generators import GeneratorKind
from secretsync.generators.leases import Lease
from secretsync.providers.base import Credentials, NoTelemetry, Telemetry


@dataclasses.dataclass(frozen=True)
class GeneratorContext:
    name: str
    """The generator object's name (for messages and AWS session names)."""

    namespace: str
    """The ExternalSecret's namespace: where the generator's Secret references resolve, also
    for a ClusterGenerator (as in ESO)."""

    credentials: Credentials
    spec_path: str = "spec"
    """Where the spec sits in the generator object (a ClusterGenerator's is deeper), so an
    error names the field the user must edit: `spec.generator.passwordSpec.digits`."""

    telemetry: Telemetry = dataclasses.field(default_factory=NoTelemetry)
    on_lease: Callable[[Lease], None] = lambda lease: None
    """Told of each lease a run issued, so it can be renewed and revoked later."""

    kind: str = ""
    """The generator object's kind (ClusterGenerator for one), for `Lease.generator`."""


class Generate(Protocol):
    def __call__(self, spec: Any, ctx: GeneratorContext) -> dict[str, bytes]:
        """One run's values. Raises ConfigError naming the spec field for a spec that cannot
        generate, and the adapters' errors (AccessDenied, Unavailable...) for remote calls."""
        ...


_MODULES = {
    GeneratorKind.PASSWORD: "secretsync.generators.password",
    GeneratorKind.UUID: "secretsync.generators.uuidgen",
    GeneratorKind.SSH_KEY: "secretsync.generators.sshkey",
    GeneratorKind.ECR_AUTHORIZATION_TOKEN: "secretsync.generators.ecr",
    GeneratorKind.VAULT_DYNAMIC_SECRET: "secretsync.generators.vault_dynamic",
}


def generator_for(kind: GeneratorKind) -> Generate:
    """The kind's `generate`; modules load on first use (boto3 only when ECR is used)."""
    module = importlib.import_module(_MODULES[kind])
    generate: Generate = module.generate
    return generate
