"""AWS KMS as a SOPS master key, for the command line: wrap the data key with Encrypt, unwrap it
with Decrypt, in the key's own region, as sops' kms key source does.

Credentials and endpoints come from the SDK's default chain (AWS_PROFILE or the entry's
`aws_profile`, environment keys, AWS_ENDPOINT_URL), and a `role` is assumed first. boto3 is
imported on first use, so commands that never meet a KMS key do not pay for it.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from typing import Any

from secretsync.errors import ConfigError, DecryptionError
from secretsync.sops import masterkeys

SESSION_NAME = "secretsync"


class KmsService:
    """implements secretsync.sops.masterkeys.KeyService."""

    key_type = "kms"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str | None, str], Any] = {}

    def accepts(self, recipient: str) -> bool:
        return masterkeys.is_kms(recipient)

    def wrap(self, recipient: str, data_key: bytes, created_at: str) -> dict[str, Any]:
        arn, role, region = masterkeys.parse_kms(recipient)
        try:
            client = self._client(region, role, "")
            blob = client.encrypt(KeyId=arn, Plaintext=data_key)["CiphertextBlob"]
        except _errors() as exc:
            raise ConfigError(
                f"KMS key {arn} could not encrypt the data key: {_reason(exc)}", field="kms"
            ) from None
        return masterkeys.kms_entry(arn, role, base64.b64encode(blob).decode(), created_at)

    def unwrap(self, entry: Mapping[str, Any]) -> bytes:
        arn = str(entry.get("arn") or "")
        try:
            _, role, region = masterkeys.parse_kms(arn)
            blob = base64.b64decode(str(entry.get("enc") or ""), validate=True)
        except (ConfigError, ValueError):
            raise DecryptionError(f"KMS key {arn!r}: the metadata entry is malformed") from None
        role = str(entry.get("role") or "") or role
        context = entry.get("context") or {}
        try:
            client = self._client(region, role, str(entry.get("aws_profile") or ""))
            return bytes(
                client.decrypt(
                    KeyId=arn,
                    CiphertextBlob=blob,
                    EncryptionContext={str(k): str(v) for k, v in context.items()},
                )["Plaintext"]
            )
        except _errors() as exc:
            raise DecryptionError(f"KMS key {arn}: {_reason(exc)}") from None

    def _client(self, region: str, role: str | None, profile: str) -> Any:
        import boto3  # noqa: PLC0415 - only when a KMS key is met

        key = (region, role, profile)
        with self._lock:
            if key not in self._clients:
                session = boto3.Session(profile_name=profile or None, region_name=region)
                if role:
                    creds = session.client("sts").assume_role(
                        RoleArn=role, RoleSessionName=SESSION_NAME
                    )["Credentials"]
                    session = boto3.Session(
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"],
                        region_name=region,
                    )
                self._clients[key] = session.client("kms")
            return self._clients[key]


def _errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - lazy, as boto3

    return (BotoCoreError, ClientError)


def _reason(exc: Exception) -> str:
    """The service's error code, or the exception's type: never the request (it holds the key)."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    if type(exc).__name__ == "NoCredentialsError":
        return "no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    return type(exc).__name__
