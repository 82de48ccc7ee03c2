"""Mutual TLS with the Vault server: the store's `tls` client certificate on every request
(eso.md §2.1, ESO's VaultClientTLS).

The key is loaded into an in-memory TLS context: it touches disk only inside a 0700 temporary
folder for the instant Python's ssl module needs a file name, and is removed on every exit path.
The context lives as long as the provider, like ESO's client; a rotated certificate is picked up
when the provider is rebuilt (a change of the store).
"""

from __future__ import annotations

import ssl
from typing import Any

from requests.adapters import HTTPAdapter

from secretsync.api.vault import VaultProvider
from secretsync.errors import ConfigError
from secretsync.providers.base import StoreContext
from secretsync.providers.vault_tls import client_cert_files

DEFAULT_CERT_KEY = "tls.crt"
DEFAULT_KEY_KEY = "tls.key"
_FIELD = "spec.provider.vault.tls"


def client_pair(ctx: StoreContext, provider: VaultProvider) -> tuple[bytes, bytes] | None:
    tls = provider.tls
    if tls is None or tls.cert_secret_ref is None or tls.key_secret_ref is None:
        return None
    cert = ctx.secret_value(tls.cert_secret_ref, default_key=DEFAULT_CERT_KEY)
    key = ctx.secret_value(tls.key_secret_ref, default_key=DEFAULT_KEY_KEY)
    return cert, key


def tls_context(verify: str | bool, cert: bytes, key: bytes) -> ssl.SSLContext:
    """Server verification as without a client certificate (a CA file, or the system roots),
    plus the client certificate."""
    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    try:
        with client_cert_files(cert, key) as (cert_path, key_path):
            context.load_cert_chain(cert_path, key_path)
    except ssl.SSLError as exc:
        # The reason names the PEM problem (e.g. "KEY_VALUES_MISMATCH"), never the key.
        raise ConfigError(
            f"the client certificate and key cannot be used: {exc.reason or 'invalid PEM'}",
            field=_FIELD,
        ) from exc
    return context


class ClientCertAdapter(HTTPAdapter):
    """A requests adapter whose connections present the client certificate."""

    def __init__(self, context: ssl.SSLContext, max_retries: Any = 0) -> None:
        self._context = context
        super().__init__(max_retries=max_retries)  # a store's retrySettings (vault_retry.py)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)
