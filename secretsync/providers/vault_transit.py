"""Vault/OpenBao transit as a SOPS master key, for the command line: wrap the data key with
`<engine>/encrypt/<key>`, unwrap it with `<engine>/decrypt/<key>`, at the address the entry
names, as sops' hc_vault key source does.

The token is VAULT_TOKEN, else ~/.vault-token; VAULT_CACERT and VAULT_SKIP_VERIFY apply, as
they do for sops (through Vault's own client). hvac is imported on first use.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from secretsync.errors import ConfigError, DecryptionError
from secretsync.sops import masterkeys


class TransitService:
    """implements secretsync.sops.masterkeys.KeyService."""

    key_type = "hc_vault"

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = dict(env)
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}

    def accepts(self, recipient: str) -> bool:
        return masterkeys.is_vault(recipient)

    def wrap(self, recipient: str, data_key: bytes, created_at: str) -> dict[str, Any]:
        address, engine, key = masterkeys.parse_vault(recipient)
        plaintext = base64.b64encode(data_key).decode()
        try:
            response = self._client(address).secrets.transit.encrypt_data(
                name=key, plaintext=plaintext, mount_point=engine
            )
            enc = str(response["data"]["ciphertext"])
        except _errors() as exc:
            raise ConfigError(
                f"Vault transit key {recipient} could not encrypt the data key: {_reason(exc)}",
                field="hc_vault_transit_uri",
            ) from None
        return masterkeys.vault_entry(address, engine, key, enc, created_at)

    def unwrap(self, entry: Mapping[str, Any]) -> bytes:
        where = masterkeys.vault_recipient(entry)
        try:
            address, key = str(entry["vault_address"]), str(entry["key_name"])
            engine, enc = str(entry["engine_path"]), str(entry["enc"])
        except KeyError:
            raise DecryptionError(f"Vault transit key {where}: the entry is malformed") from None
        try:
            response = self._client(address).secrets.transit.decrypt_data(
                name=key, ciphertext=enc, mount_point=engine
            )
            return base64.b64decode(response["data"]["plaintext"], validate=True)
        except (KeyError, TypeError, ValueError):
            raise DecryptionError(f"Vault transit key {where}: unexpected response") from None
        except _errors() as exc:
            raise DecryptionError(f"Vault transit key {where}: {_reason(exc)}") from None

    def _client(self, address: str) -> Any:
        import hvac  # noqa: PLC0415 - only when a Vault transit key is met

        with self._lock:
            if address not in self._clients:
                self._clients[address] = hvac.Client(
                    url=address, token=self._token(), verify=self._verify()
                )
            return self._clients[address]

    def _token(self) -> str | None:
        token = self._env.get("VAULT_TOKEN")
        if token:
            return token
        home = Path(self._env.get("HOME") or Path.home())
        try:
            return (home / ".vault-token").read_text().strip() or None
        except OSError:
            return None

    def _verify(self) -> bool | str:
        if self._env.get("VAULT_SKIP_VERIFY", "").lower() in {"1", "true"}:
            return False
        return self._env.get("VAULT_CACERT") or True


def _errors() -> tuple[type[Exception], ...]:
    import hvac.exceptions  # noqa: PLC0415 - lazy, as hvac
    import requests  # noqa: PLC0415

    return (hvac.exceptions.VaultError, requests.RequestException)


def _reason(exc: Exception) -> str:
    """Vault's own error text (it never echoes the plaintext) or the failure's type."""
    errors = getattr(exc, "errors", None)
    if errors:
        text = errors if isinstance(errors, str) else "; ".join(str(e) for e in errors)
        return " ".join(text.split())
    if type(exc).__name__ in {"Forbidden", "Unauthorized"}:
        return "permission denied (check VAULT_TOKEN)"
    return type(exc).__name__
