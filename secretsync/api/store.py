"""SecretStore and ClusterSecretStore, with the providers secretsync serves as a tagged union:
code matches on the provider's type instead of probing a bag of optional fields. Each provider
lives in a module of its own (vault, aws, sops); ESO's others are kept, not served."""

from __future__ import annotations

import dataclasses
from typing import Any

from secretsync.api.aws import AWSProvider
from secretsync.api.fields import KeptOption, field
from secretsync.api.retry import RetrySettings
from secretsync.api.sops import SopsProvider
from secretsync.api.vault import VaultProvider

StoreProvider = VaultProvider | AWSProvider | SopsProvider

ESO_PROVIDERS_KEPT = (
    # ESO 2.9's SecretStoreProvider keys, plus alibaba and device42 that v0.16.2 (v1beta1) has.
    "akeyless", "alibaba", "azurekv", "barbican", "beyondtrust", "beyondtrustworkloadcredentials",
    "bitwardensecretsmanager", "chef", "cloudrusm", "conjur", "crd", "delinea", "device42",
    "doppler", "dvls", "fake", "fortanix", "gcpsm", "github", "gitlab", "ibm", "infisical",
    "keepersecurity", "kubernetes", "nebiusmysterybox", "ngrok", "onboardbase", "onepassword",
    "onepasswordSDK", "openBao", "oracle", "ovh", "passbolt", "passworddepot", "previder",
    "pulumi", "scaleway", "secretserver", "senhasegura", "volcengine", "webhook",
    "yandexcertificatemanager", "yandexlockbox",
)  # fmt: skip
_KEPT_INSTEAD = {
    "openBao": "use the vault provider: OpenBao speaks the Vault API",
}

PROVIDERS: dict[str, type | KeptOption] = {
    "vault": VaultProvider,
    "aws": AWSProvider,
    "sops": SopsProvider,
    **{
        name: KeptOption(
            f"ESO's {name} provider: stored intact, not implemented by secretsync (Unsupported).",
            instead=_KEPT_INSTEAD.get(name),
        )
        for name in ESO_PROVIDERS_KEPT
    },
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClusterStoreCondition:
    namespaces: tuple[str, ...] = field("Namespaces by name.", default=())
    namespace_regexes: tuple[str, ...] = field("Namespaces by regular expression.", default=())
    namespace_selector: Any = field(
        "Namespaces by label selector.", default=None, preserve_unknown=True
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SecretStoreSpec:
    provider: StoreProvider = field("Exactly one provider.", one_of=PROVIDERS)
    controller: str | None = field("Controller class.", default=None)
    refresh_interval: Any = field(
        "How often the store is re-validated.", default=None, int_or_string=True
    )
    conditions: tuple[ClusterStoreCondition, ...] = field(
        "ClusterSecretStore only: namespaces that may use it (ORed).", default=()
    )
    retry_settings: RetrySettings | None = field(
        "Retries of a failed provider request (ESO's): Vault and AWS stores; sops ignores it.",
        default=None,
    )
