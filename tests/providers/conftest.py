"""Fixtures shared by the provider tests."""

from tests.providers.vault_auth_fixtures import make

__all__ = ["make"]  # Vault providers for a test's SecretStores: a fixture, used by name
