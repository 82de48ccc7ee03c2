"""secretsync: ExternalSecrets from Vault/OpenBao, AWS and SOPS-in-Git, with safe rollouts."""

__version__ = "0.1.0"
