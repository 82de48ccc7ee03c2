"""One registry from store provider model to the module whose `factory` builds it.

Modules are imported on first use, so `secretsync encrypt` never pays for boto3 or hvac.
"""

from __future__ import annotations

import importlib

from secretsync.api.aws import AWSProvider, AWSService
from secretsync.api.sops import SopsProvider
from secretsync.api.store import StoreProvider
from secretsync.api.vault import VaultProvider
from secretsync.providers.base import ProviderFactory

_MODULES = {
    "vault": "secretsync.providers.vault",
    AWSService.SECRETS_MANAGER.value: "secretsync.providers.aws_secretsmanager",
    AWSService.PARAMETER_STORE.value: "secretsync.providers.aws_parameterstore",
    "sops": "secretsync.providers.sops_git",
}


def provider_name(provider: StoreProvider) -> str:
    """The label used in metrics and logs, ESO's where ESO has one."""
    if isinstance(provider, VaultProvider):
        return "HashiCorp/Vault"
    if isinstance(provider, AWSProvider):
        return f"AWS/{provider.service.value}"
    assert isinstance(provider, SopsProvider)
    return "SOPS/Git"


def factory_for(provider: StoreProvider) -> ProviderFactory:
    if isinstance(provider, VaultProvider):
        key = "vault"
    elif isinstance(provider, AWSProvider):
        key = provider.service.value
    else:
        key = "sops"
    module = importlib.import_module(_MODULES[key])
    factory: ProviderFactory = module.factory
    return factory
