"""secretsync: ExternalSecrets from Vault/OpenBao, AWS and SOPS-in-Git, with rollouts that roll back."""

__version__ = "0.1.0"
