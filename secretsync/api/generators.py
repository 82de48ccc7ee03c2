"""The generators.external-secrets.io kinds secretsync runs (v1alpha1, ESO's field names and
defaults): Password, UUID, SSHKey, ECRAuthorizationToken, VaultDynamicSecret, and
ClusterGenerator wrapping any of them. The other generator kinds stay stored as they are
(unserved.py) and are Unsupported.

A generator is read where an ExternalSecret's `sourceRef.generatorRef` names it; `parse_generator`
turns the stored object into the kind to run and its typed spec, once, at that edge.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from secretsync.api.aws import AWSAuth
from secretsync.api.fields import KeptOption, field
from secretsync.api.parsing import parse
from secretsync.api.retry import RetrySettings
from secretsync.api.vault import VaultProvider
from secretsync.errors import ConfigError, Unsupported

GENERATORS_GROUP = "generators.external-secrets.io"
GENERATORS_API_VERSION = f"{GENERATORS_GROUP}/v1alpha1"
CLUSTER_GENERATOR = "ClusterGenerator"

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


class PasswordEncoding(enum.StrEnum):
    RAW = "raw"
    BASE64 = "base64"
    BASE64URL = "base64url"
    BASE32 = "base32"
    HEX = "hex"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PasswordSpec:
    length: int = field("Length of the password.", default=24, schema_default=24)
    digits: int | None = field("Number of digits; 25% of the length when unset.", default=None)
    symbols: int | None = field("Number of symbols; 25% of the length when unset.", default=None)
    symbol_characters: str | None = field(
        "The symbols to draw from; ESO's set when unset.", default=None
    )
    no_upper: bool = field("No upper-case letters.", default=False, schema_default=False)
    allow_repeat: bool = field("Characters may repeat.", default=False, schema_default=False)
    secret_keys: tuple[str, ...] = field(
        "Keys to fill, each with its own password; `password` when unset.", default=()
    )
    # No schema default: ESO v0.16.2 has no such field, and a default would add it.
    encoding: PasswordEncoding = field(
        "raw, base64, base64url, base32 or hex.", default=PasswordEncoding.RAW
    )

    def validate(self, path: str) -> None:
        for name, value in (("length", self.length), ("digits", self.digits)):
            if value is not None and value < 0:
                raise ConfigError("must not be negative", field=f"{path}.{name}")
        if self.symbols is not None and self.symbols < 0:
            raise ConfigError("must not be negative", field=f"{path}.symbols")
        for i, key in enumerate(self.secret_keys):
            if not key:
                raise ConfigError("must not be empty", field=f"{path}.secretKeys[{i}]")
            if key in self.secret_keys[:i]:
                raise ConfigError(f"{key!r} is listed twice", field=f"{path}.secretKeys[{i}]")


@dataclasses.dataclass(frozen=True, kw_only=True)
class UUIDSpec:
    """No settings: a random (version 4) UUID under the key `uuid`."""


class SSHKeyType(enum.StrEnum):
    RSA = "rsa"
    ECDSA = "ecdsa"
    ED25519 = "ed25519"


RSA_SIZES = (2048, 3072, 4096)
ECDSA_SIZES = (256, 384, 521)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SSHKeySpec:
    # No schema default for keyType: the parser's default is ESO's, and a schema default would
    # add the field to objects ESO stores without it (its CRD declares "rsa").
    key_type: SSHKeyType = field("rsa, ecdsa or ed25519.", default=SSHKeyType.RSA)
    key_size: int | None = field(
        "RSA: 2048 (default) to 8192 bits; ECDSA: 256 (default), 384 or 521; ed25519 ignores it.",
        default=None,
    )
    comment: str = field("Comment appended to the public key.", default="")

    def validate(self, path: str) -> None:
        size = self.key_size
        if size is None or self.key_type is SSHKeyType.ED25519:
            return
        if self.key_type is SSHKeyType.RSA and not (2048 <= size <= 8192 and size % 8 == 0):
            raise ConfigError(
                "an RSA key has 2048 to 8192 bits, a multiple of 8 (2048, 3072 or 4096)",
                field=f"{path}.keySize",
            )
        if self.key_type is SSHKeyType.ECDSA and size not in ECDSA_SIZES:
            raise ConfigError("an ECDSA key has 256, 384 or 521 bits", field=f"{path}.keySize")


class ECRScope(enum.StrEnum):
    PRIVATE = "private"
    PUBLIC = "public"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ECRAuthorizationTokenSpec:
    region: str = field("AWS region of the registry.")
    auth: AWSAuth | None = field("Credentials; the SDK's default chain when absent.", default=None)
    role: str | None = field("Role ARN assumed before calling ECR.", default=None)
    scope: str | None = field("private (default) or public (ECR Public).", default=None)

    def validate(self, path: str) -> None:
        if self.scope not in (None, "", *ECRScope):
            raise ConfigError("must be private or public", field=f"{path}.scope")


class VaultResultType(enum.StrEnum):
    DATA = "Data"
    AUTH = "Auth"
    RAW = "Raw"


RENEW_AT_PERCENT = 67
"""Renew a lease when two thirds of its TTL have passed (VSO's rule; VSO #99)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultLeasePolicy:
    """secretsync's extension (additive; ESO ignores leases): how the lease of an issued
    credential is kept, renewed, re-issued and revoked (docs/rotation.md)."""

    renew_at_percent: int = field(
        "Renew the lease when this share of its TTL has passed (1-99; default 67, two thirds). "
        "Once a renewal comes back capped by the lease's max TTL, or the lease is not "
        "renewable, the credential is issued anew at that point instead.",
        default=RENEW_AT_PERCENT,
    )
    revoke_on_delete: bool = field(
        "Revoke the lease when the ExternalSecret is deleted (default true); false leaves it to "
        "expire with its TTL.",
        default=True,
    )

    def validate(self, path: str) -> None:
        if not 1 <= self.renew_at_percent <= 99:
            raise ConfigError("must be between 1 and 99", field=f"{path}.renewAtPercent")


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultDynamicSecretSpec:
    controller: str = field("The controller class that handles this generator.", default="")
    provider: VaultProvider = field("The Vault / OpenBao server and how to log in.")
    path: str = field("The path to issue the credential from, e.g. database/creds/app.")
    method: str = field(
        "HTTP method: GET (default), LIST, DELETE, or a write (POST, PUT).", default=""
    )
    parameters: Any = field(
        "JSON body for a write method (ignored on GET and LIST).",
        default=None,
        preserve_unknown=True,
    )
    get_parameters: Mapping[str, tuple[str, ...]] = field(
        "Query-string parameters for GET, each with one or more values.",
        default_factory=dict,
        json="getParameters",
    )
    result_type: VaultResultType = field(
        "Which part of the response becomes the values: Data (default), Auth or Raw.",
        default=VaultResultType.DATA,
        schema_default="Data",
    )
    retry_settings: RetrySettings | None = field("Retries of failed requests.", default=None)
    allow_empty_response: bool = field(
        "An empty answer yields no values instead of an error.",
        default=False,
        schema_default=False,
    )
    lease: VaultLeasePolicy | None = field(
        "secretsync: the lease lifecycle (renewal, re-issue, revocation); defaults when unset.",
        default=None,
    )

    def validate(self, path: str) -> None:
        if not self.path.strip("/"):
            raise ConfigError("must name a path, e.g. database/creds/app", field=f"{path}.path")
        method = self.method.upper()
        if method and method not in ("GET", "LIST", "DELETE", "POST", "PUT", "PATCH"):
            raise ConfigError(
                "must be GET, LIST, DELETE, POST, PUT or PATCH", field=f"{path}.method"
            )

    @property
    def lease_policy(self) -> VaultLeasePolicy:
        return self.lease or VaultLeasePolicy()


NOT_YET = (
    "secretsync does not run {kind} generators yet: use Password, UUID, SSHKey, "
    "ECRAuthorizationToken or VaultDynamicSecret, or read the value from a store"
)
KEPT_KINDS = (
    "ACRAccessToken", "BeyondtrustWorkloadCredentialsDynamicSecret", "CloudsmithAccessToken",
    "Fake", "GCRAccessToken", "GithubAccessToken", "GitlabDeployToken", "Grafana", "MFA",
    "QuayAccessToken", "STSSessionToken", "Webhook",
)  # fmt: skip
"""ESO's generator kinds (2.9 and v0.16.2) that secretsync stores but does not run."""


class GeneratorKind(enum.StrEnum):
    PASSWORD = "Password"
    UUID = "UUID"
    SSH_KEY = "SSHKey"
    ECR_AUTHORIZATION_TOKEN = "ECRAuthorizationToken"
    VAULT_DYNAMIC_SECRET = "VaultDynamicSecret"


GeneratorRefKind = enum.StrEnum(  # type: ignore[misc]
    "GeneratorRefKind",
    {name: name for name in (CLUSTER_GENERATOR, *(k.value for k in GeneratorKind), *KEPT_KINDS)},
)
"""Every kind an ExternalSecret's generatorRef may name (ESO's enum); those in KEPT_KINDS are
refused by the parser as Unsupported."""


SPECS: dict[GeneratorKind, type] = {
    GeneratorKind.PASSWORD: PasswordSpec,
    GeneratorKind.UUID: UUIDSpec,
    GeneratorKind.SSH_KEY: SSHKeySpec,
    GeneratorKind.ECR_AUTHORIZATION_TOKEN: ECRAuthorizationTokenSpec,
    GeneratorKind.VAULT_DYNAMIC_SECRET: VaultDynamicSecretSpec,
}
PLURALS = {kind: f"{kind.value.lower()}s" for kind in GeneratorKind}


def _spec_key(kind: str) -> str:
    """ClusterGenerator's key for a kind: ESO's lower-camel name plus Spec (sshKeySpec)."""
    special = {"SSHKey": "sshKey", "UUID": "uuid", "MFA": "mfa"}
    if kind in special:
        return f"{special[kind]}Spec"
    head = len(kind) - len(kind.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    cut = head - 1 if head > 1 else head
    return f"{kind[:cut].lower()}{kind[cut:]}Spec"


SPEC_KEYS = {kind: _spec_key(kind.value) for kind in GeneratorKind}
_OPTIONS: dict[str, type | KeptOption] = {
    **{SPEC_KEYS[kind]: model for kind, model in SPECS.items()},
    **{_spec_key(kind): KeptOption(f"ESO's {kind} generator.", NOT_YET.format(kind=kind))
       for kind in KEPT_KINDS},
}  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClusterGeneratorSpec:
    kind: GeneratorKind = field(
        "The kind of generator the spec below is.",
        kept_values={kind: NOT_YET.format(kind=kind) for kind in KEPT_KINDS},
    )
    generator: Any = field("The generator's spec, under its kind's key.", one_of=_OPTIONS)

    def validate(self, path: str) -> None:
        if not isinstance(self.generator, SPECS[self.kind]):
            raise ConfigError(
                f"kind is {self.kind.value}: set generator.{SPEC_KEYS[self.kind]}",
                field=f"{path}.generator",
            )


@dataclasses.dataclass(frozen=True)
class Generator:
    """A generator to run: its kind (a ClusterGenerator's is the kind it wraps) and spec."""

    kind: GeneratorKind
    name: str
    spec: Any


def parse_generator(raw: Mapping[str, Any]) -> Generator:
    """The stored generator object as the kind to run; ConfigError or Unsupported naming the
    field (`spec.generator.passwordSpec.length`)."""
    kind = str(raw.get("kind"))
    meta = raw.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise ConfigError("must be an object", field="metadata")
    name = str(meta.get("name") or "")
    if kind == CLUSTER_GENERATOR:
        cluster = parse(ClusterGeneratorSpec, raw.get("spec") or {}, "spec")
        return Generator(cluster.kind, name, cluster.generator)
    if kind in KEPT_KINDS:
        raise Unsupported(field="kind", instead=NOT_YET.format(kind=kind), value=kind)
    try:
        served = GeneratorKind(kind)
    except ValueError:
        raise ConfigError(f"{kind!r} is not a generator kind", field="kind") from None
    return Generator(served, name, parse(SPECS[served], raw.get("spec") or {}, "spec"))
