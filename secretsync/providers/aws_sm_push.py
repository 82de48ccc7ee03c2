"""PushSecret writes to AWS Secrets Manager, with ESO's ownership tag `managed-by:
external-secrets`. A secret without the tag is never written or deleted.

As ESO: a new secret is created with the tag (and the metadata's tags), ESO's description and
its first version token; a change is a PutSecretValue (an unchanged value writes nothing); the
value is SecretBinary unless the metadata says `secretPushFormat: string`; a deletion honours
the store's secretsManager options (recovery window or forced). Unlike ESO, a property is
removed alone while others remain (ESO deletes the whole secret), and a secret of ours that is
scheduled for deletion is restored before a push instead of failing until the window ends.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from secretsync.api.aws import AWSProvider
from secretsync.errors import ConfigError, NotFound, SecretSyncError
from secretsync.providers import aws_push as push
from secretsync.providers.aws_errors import Caller
from secretsync.providers.base import ForeignValue, PushRef, RemoteState

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

FIRST_VERSION = "00000000-0000-0000-0000-000000000001"
"""ESO's ClientRequestToken for a secret's first version."""

KNOWN = ("secretPushFormat", "description", "kmsKeyID", "tags")
UNSUPPORTED = {
    "resourcePolicy": "set the secret's resource policy in AWS; secretsync does not manage it",
    "replicationLocations": "replicate the secret in AWS; secretsync does not manage replicas",
}
FORMATS = ("binary", "string")


class SecretsManagerPush:
    def __init__(
        self, client: Callable[[], SecretsManagerClient], call: Caller, aws: AWSProvider,
        log_in: Callable[[], None],
    ) -> None:  # fmt: skip
        self._client, self._call, self._log_in = client, call, log_in
        self._prefix = aws.prefix or ""
        self._options = aws.secrets_manager

    def remote(self, ref: PushRef) -> RemoteState:
        name = self._prefix + ref.remote_key
        described = self._describe(name)
        if described is None:
            return RemoteState(found=False, managed=False, has_value=False)
        managed = push.is_managed(described.get("Tags", []))
        if described.get("DeletedDate") or not described.get("VersionIdsToStages"):
            return RemoteState(found=True, managed=managed, has_value=False)
        if not ref.property:
            return RemoteState(found=True, managed=managed, has_value=True)
        current = push.json_object(self._value(name), f"secret {name}")
        return RemoteState(found=True, managed=managed, has_value=ref.property in current)

    def set(self, ref: PushRef, value: bytes) -> bool:
        name = self._prefix + ref.remote_key
        spec = _metadata(ref.metadata)
        described = self._describe(name)
        if described is None:
            self._create(name, push.merged(None, ref.property, value, name), spec)
            return True
        if not push.is_managed(described.get("Tags", [])):
            raise ForeignValue(_foreign(name))
        if described.get("DeletedDate"):
            self._call("RestoreSecret", name, lambda: self._client().restore_secret(SecretId=name))
        current = self._value(name) if described.get("VersionIdsToStages") else None
        new = push.merged(current, ref.property, value, f"secret {name}")
        self._retag(name, described.get("Tags", []), push.tags(spec))
        if current == new:
            return False
        self._put(name, new, spec)
        return True

    def delete(self, ref: PushRef) -> bool:
        name = self._prefix + ref.remote_key
        described = self._describe(name)
        if described is None or described.get("DeletedDate"):
            return False
        if not push.is_managed(described.get("Tags", [])):
            return False  # not ours: ESO leaves it alone
        if ref.property:
            rest = push.without(self._value(name), ref.property, f"secret {name}")
            if rest is None:
                return False
            if rest:
                self._put(name, _json(rest), _metadata(ref.metadata))
                return True
        options: dict[str, Any] = {}
        if self._options and self._options.force_delete_without_recovery:
            options["ForceDeleteWithoutRecovery"] = True
        elif self._options and self._options.recovery_window_in_days:
            options["RecoveryWindowInDays"] = self._options.recovery_window_in_days
        self._call(
            "DeleteSecret", name, lambda: self._client().delete_secret(SecretId=name, **options)
        )
        return True

    # --- helpers ----------------------------------------------------------------------------

    def _describe(self, name: str) -> Mapping[str, Any] | None:
        self._log_in()  # a credential that cannot be read is not an absent secret
        try:
            found: Mapping[str, Any] = self._call(
                "DescribeSecret", name, lambda: self._client().describe_secret(SecretId=name)
            )
        except NotFound:
            return None
        return found

    def _value(self, name: str) -> bytes | None:
        try:
            found = self._call(
                "GetSecretValue", name, lambda: self._client().get_secret_value(SecretId=name)
            )
        except NotFound:
            return None
        if found.get("SecretString") is not None:
            return str(found["SecretString"]).encode()
        return bytes(found.get("SecretBinary") or b"")

    def _create(self, name: str, value: bytes, spec: Mapping[str, Any]) -> None:
        params: dict[str, Any] = {
            "Name": name,
            "Description": str(spec.get("description") or push.DESCRIPTION),
            "ClientRequestToken": FIRST_VERSION,
            "Tags": [{"Key": k, "Value": v} for k, v in push.marker_tags(spec).items()],
            **_payload(value, spec),
        }
        if spec.get("kmsKeyID"):
            params["KmsKeyId"] = str(spec["kmsKeyID"])
        self._write("CreateSecret", name, value, lambda: self._client().create_secret(**params))

    def _put(self, name: str, value: bytes, spec: Mapping[str, Any]) -> None:
        params = {
            "SecretId": name,
            "ClientRequestToken": str(uuid.uuid4()),
            **_payload(value, spec),
        }
        self._write(
            "PutSecretValue", name, value, lambda: self._client().put_secret_value(**params)
        )

    def _write(self, operation: str, name: str, value: bytes, call: Callable[[], object]) -> None:
        try:
            self._call(operation, name, call)
        except SecretSyncError as exc:
            raise push.scrubbed(exc, value) from exc.__cause__

    def _retag(self, name: str, current: Any, wanted: dict[str, str] | None) -> None:
        remove, add = push.tag_changes(current, wanted)
        if remove:
            self._call(
                "UntagResource",
                name,
                lambda: self._client().untag_resource(SecretId=name, TagKeys=remove),
            )
        if add:
            tags: list[Any] = [{"Key": k, "Value": v} for k, v in add.items()]
            self._call(
                "TagResource", name, lambda: self._client().tag_resource(SecretId=name, Tags=tags)
            )


def _metadata(raw: object) -> dict[str, Any]:
    spec = push.metadata_spec(raw, KNOWN, UNSUPPORTED)
    fmt = spec.get("secretPushFormat")
    if fmt is not None and fmt not in FORMATS:
        raise ConfigError(
            f"expected one of {', '.join(FORMATS)}", field=f"{push.FIELD}.spec.secretPushFormat"
        )
    return spec


def _payload(value: bytes, spec: Mapping[str, Any]) -> dict[str, Any]:
    if spec.get("secretPushFormat") == "string":
        return {"SecretString": value.decode("utf-8", "replace")}
    return {"SecretBinary": value}


def _json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _foreign(name: str) -> str:
    return (
        f"secret {name} exists and was not written by a PushSecret (no tag managed-by: "
        "external-secrets); it is left as it is. Push to another remoteKey, or tag it if it may "
        "be replaced"
    )
