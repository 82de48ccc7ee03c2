"""Master keys held by a service (AWS KMS, Vault/OpenBao transit): how the engine asks one to
wrap or unwrap the data key, without knowing the service's client (pure; the adapters live in
secretsync.providers).

A recipient string names the key, as sops' flags do: `arn:aws:kms:<region>:<account>:key/<id>`,
optionally `+arn:aws:iam::<account>:role/<name>` for a role to assume (`--kms`), or
`https://vault:8200/v1/<engine path>/keys/<name>` (`--hc-vault-transit`). The metadata entry a
service writes has exactly sops' fields, so sops reads it back.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any, Protocol

from secretsync.errors import ConfigError

_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)/\S+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
# sops' engineAndKeyFromPath: /v<N>/<engine path>/keys/<name>, with no prefix before /v<N>.
_VAULT_PATH = re.compile(r"^/v\d+/(?P<engine>[^?#]+)/keys/(?P<key>[^/?#]+)/?$")


class KeyService(Protocol):
    key_type: str
    """The metadata list it reads and writes: `kms`."""

    def accepts(self, recipient: str) -> bool: ...

    def wrap(self, recipient: str, data_key: bytes, created_at: str) -> dict[str, Any]:
        """The metadata entry holding `data_key` for this recipient."""

    def unwrap(self, entry: Mapping[str, Any]) -> bytes:
        """The data key from a metadata entry; DecryptionError when this key cannot open it."""


def is_kms(recipient: str) -> bool:
    return recipient.startswith("arn:") and ":kms:" in recipient


def parse_kms(recipient: str) -> tuple[str, str | None, str]:
    """(key ARN, role ARN or None, region) from sops' `ARN[+ROLE]` syntax."""
    arn, _, role = recipient.strip().partition("+")
    found = _KMS_ARN.match(arn)
    if not found:
        raise ConfigError(
            f"{arn!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)", field="kms"
        )
    if role and not _ROLE_ARN.match(role):
        raise ConfigError(
            f"{role!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", field="kms"
        )
    return arn, role or None, found.group(1)


def kms_entry(
    arn: str, role: str | None, enc: str, created_at: str, context: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What sops writes for a KMS key (kms/keysource.go ToMap, plus `aws_profile`, which its
    stores always emit)."""
    entry: dict[str, Any] = {"arn": arn, "created_at": created_at, "enc": enc, "aws_profile": ""}
    if role:
        entry["role"] = role
    if context:
        entry["context"] = dict(context)
    return entry


def kms_recipient(entry: Mapping[str, Any]) -> str | None:
    """An existing KMS entry as the recipient that wraps it again (`ARN[+ROLE]`); None when it
    carries an encryption context, which a recipient string cannot express."""
    if entry.get("context"):
        return None
    role = str(entry.get("role") or "")
    arn = str(entry.get("arn") or "")
    return f"{arn}+{role}" if role else arn


def is_vault(recipient: str) -> bool:
    return recipient.startswith(("https://", "http://"))


def parse_vault(uri: str) -> tuple[str, str, str]:
    """(address, engine path, key name) from `https://host:port/v1/<engine>/keys/<name>`."""
    parsed = urllib.parse.urlsplit(uri.strip())
    found = _VAULT_PATH.match(parsed.path)
    if not parsed.scheme or not parsed.netloc or not found:
        raise ConfigError(
            f"{uri!r} is not a Vault transit key URI "
            "(https://vault.example.com:8200/v1/transit/keys/<name>)",
            field="hc_vault_transit_uri",
        )
    return f"{parsed.scheme}://{parsed.netloc}", found["engine"].strip("/"), found["key"]


def vault_entry(address: str, engine: str, key: str, enc: str, created_at: str) -> dict[str, Any]:
    """What sops writes for a Vault transit key (hcvault/keysource.go ToMap)."""
    return {
        "vault_address": address,
        "engine_path": engine,
        "key_name": key,
        "created_at": created_at,
        "enc": enc,
    }


def vault_recipient(entry: Mapping[str, Any]) -> str:
    address = str(entry.get("vault_address") or "").rstrip("/")
    return f"{address}/v1/{entry.get('engine_path')}/keys/{entry.get('key_name')}"


def recipient_of(key_type: str, entry: Mapping[str, Any]) -> str | None:
    """An existing entry as the recipient that wraps a data key for it again, or None."""
    if key_type == "kms":
        return kms_recipient(entry)
    if key_type == "hc_vault":
        return vault_recipient(entry)
    return None
