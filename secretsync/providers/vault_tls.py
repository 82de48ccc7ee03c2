"""The server CA a Vault store trusts: caBundle or caProvider (eso.md §2.1).

Verification is never turned off. Without either field the system roots apply.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

from secretsync.api.common import CAProviderType
from secretsync.api.vault import VaultProvider
from secretsync.errors import ConfigError
from secretsync.providers.base import StoreContext

DEFAULT_CA_KEY = "ca.crt"
_FIELD = "spec.provider.vault"


def ca_pem(ctx: StoreContext, provider: VaultProvider) -> bytes | None:
    if provider.ca_bundle:
        try:
            pem = base64.b64decode(provider.ca_bundle, validate=True)
        except binascii.Error as exc:
            raise ConfigError("is not valid base64", field=f"{_FIELD}.caBundle") from exc
        return _checked(pem, f"{_FIELD}.caBundle")
    source = provider.ca_provider
    if source is None:
        return None
    namespace = ctx.ref_namespace(source.namespace)
    key = source.key or DEFAULT_CA_KEY
    if source.type is CAProviderType.SECRET:
        pem = ctx.credentials.secret_data(namespace, source.name).get(key) or b""
    else:
        pem = (ctx.credentials.config_map_data(namespace, source.name).get(key) or "").encode()
    if not pem:
        raise ConfigError(
            f"{source.type} {namespace}/{source.name} has no key {key!r}",
            field=f"{_FIELD}.caProvider",
        )
    return _checked(pem, f"{_FIELD}.caProvider")


def _checked(pem: bytes, field: str) -> bytes:
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ConfigError("holds no PEM certificate", field=field)
    return pem


def ca_file(owner: object, pem: bytes) -> tuple[Path, Callable[[], None]]:
    """Write the CA to a private file for the HTTP client, removed by the returned callable or,
    failing that, when `owner` is garbage-collected. A CA is public, but we still keep it 0600."""
    handle, name = tempfile.mkstemp(prefix="secretsync-vault-ca-", suffix=".pem")
    with os.fdopen(handle, "wb") as out:
        out.write(pem)
    path = Path(name)
    return path, weakref.finalize(owner, path.unlink, missing_ok=True)


@contextlib.contextmanager
def client_cert_files(cert: bytes, key: bytes) -> Iterator[tuple[str, str]]:
    """TLS certificate login: requests only takes file paths, so the key lives in a 0700
    directory for the duration of the one login request and is removed on every exit path."""
    with tempfile.TemporaryDirectory(prefix="secretsync-vault-cert-") as folder:
        cert_path, key_path = Path(folder) / "tls.crt", Path(folder) / "tls.key"
        for path, data in ((cert_path, cert), (key_path, key)):
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                out.write(data)
        yield str(cert_path), str(key_path)
