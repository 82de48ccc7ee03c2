"""PushSecret writes to AWS SSM Parameter Store, with ESO's ownership tag `managed-by:
external-secrets`. A parameter without the tag is never written or deleted.

As ESO: a new parameter is a PutParameter without Overwrite carrying the tags (type String
unless the metadata says StringList or SecureString, ESO's description, the KMS key for a
SecureString, the tier); a change is a PutParameter with Overwrite (tags cannot go with it, so
they are set apart, and only when the metadata names some); an unchanged value writes nothing.
Unlike ESO, which ignores remoteRef.property here, a property is set inside a JSON value (and
removed alone while others remain), as for Secrets Manager and Vault.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from secretsync.api.aws import AWSProvider
from secretsync.errors import ConfigError, NotFound, SecretSyncError, Unsupported
from secretsync.providers import aws_push as push
from secretsync.providers.aws_errors import Caller
from secretsync.providers.base import ForeignValue, PushRef, RemoteState

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

KNOWN = ("secretType", "kmsKeyID", "tier", "encodeAsDecoded", "tags", "description")
UNSUPPORTED: dict[str, str] = {}
TYPES = ("String", "StringList", "SecureString")
TIERS = ("Standard", "Advanced", "Intelligent-Tiering")


class ParameterStorePush:
    def __init__(
        self, client: Callable[[], SSMClient], call: Caller, aws: AWSProvider,
        log_in: Callable[[], None],
    ) -> None:  # fmt: skip
        self._client, self._call, self._log_in = client, call, log_in
        self._prefix = aws.prefix or ""

    def remote(self, ref: PushRef) -> RemoteState:
        name = self._prefix + ref.remote_key
        current = self._parameter(name)
        if current is None:
            return RemoteState(found=False, managed=False, has_value=False)
        managed = push.is_managed(self._tags(name))
        present = True
        if ref.property:
            present = ref.property in push.json_object(_value(current), f"parameter {name}")
        return RemoteState(found=True, managed=managed, has_value=present)

    def set(self, ref: PushRef, value: bytes) -> bool:
        name = self._prefix + ref.remote_key
        spec = _metadata(ref.metadata)
        current = self._parameter(name)
        if current is None:
            new = push.merged(None, ref.property, value, name)
            tags = [{"Key": k, "Value": v} for k, v in push.marker_tags(spec).items()]
            self._put(name, new, spec, Tags=tags)
            return True
        existing = self._tags(name)
        if not push.is_managed(existing):
            raise ForeignValue(_foreign(name))
        new = push.merged(_value(current), ref.property, value, f"parameter {name}")
        changed = _value(current) != new or current.get("Type") != _type(spec)
        if changed:
            self._put(name, new, spec, Overwrite=True)
        self._retag(name, existing, push.tags(spec))
        return changed

    def delete(self, ref: PushRef) -> bool:
        name = self._prefix + ref.remote_key
        current = self._parameter(name)
        if current is None or not push.is_managed(self._tags(name)):
            return False  # gone, or not ours: ESO leaves it alone
        if ref.property:
            rest = push.without(_value(current), ref.property, f"parameter {name}")
            if rest is None:
                return False
            if rest:
                document = json.dumps(rest, separators=(",", ":")).encode()
                spec = _metadata(ref.metadata)
                self._put(name, document, spec, Overwrite=True)
                return True
        try:
            self._call("DeleteParameter", name, lambda: self._client().delete_parameter(Name=name))
        except NotFound:
            return False
        return True

    # --- helpers ----------------------------------------------------------------------------

    def _parameter(self, name: str) -> Mapping[str, Any] | None:
        self._log_in()  # a credential that cannot be read is not an absent parameter
        try:
            found = self._call(
                "GetParameter",
                name,
                lambda: self._client().get_parameter(Name=name, WithDecryption=True),
            )
        except NotFound:
            return None
        parameter: Mapping[str, Any] = found.get("Parameter") or {}
        return parameter

    def _tags(self, name: str) -> list[Mapping[str, Any]]:
        found = self._call(
            "ListTagsForResource",
            name,
            lambda: self._client().list_tags_for_resource(
                ResourceType="Parameter", ResourceId=name
            ),
        )
        return list(found.get("TagList", []))

    def _put(self, name: str, value: bytes, spec: Mapping[str, Any], **extra: Any) -> None:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(
                f"parameter {name}: Parameter Store holds text only and the value is not "
                "UTF-8; push it to Secrets Manager, or base64-encode it in a template"
            ) from None
        params: dict[str, Any] = {
            "Name": name,
            "Value": text,
            "Type": _type(spec),
            "Description": str(spec.get("description") or push.DESCRIPTION),
            **extra,
        }
        if params["Type"] == "SecureString" and spec.get("kmsKeyID"):
            params["KeyId"] = str(spec["kmsKeyID"])
        tier = _tier(spec)
        if tier is not None:
            params["Tier"] = tier
        try:
            self._call("PutParameter", name, lambda: self._client().put_parameter(**params))
        except SecretSyncError as exc:
            raise push.scrubbed(exc, value) from exc.__cause__

    def _retag(self, name: str, current: Any, wanted: dict[str, str] | None) -> None:
        remove, add = push.tag_changes(current, wanted)
        if remove:
            self._call(
                "RemoveTagsFromResource",
                name,
                lambda: self._client().remove_tags_from_resource(
                    ResourceType="Parameter", ResourceId=name, TagKeys=remove
                ),
            )
        if add:
            tags: list[Any] = [{"Key": k, "Value": v} for k, v in add.items()]
            self._call(
                "AddTagsToResource",
                name,
                lambda: self._client().add_tags_to_resource(
                    ResourceType="Parameter", ResourceId=name, Tags=tags
                ),
            )


def _value(parameter: Mapping[str, Any]) -> bytes:
    return str(parameter.get("Value") or "").encode()


def _metadata(raw: object) -> dict[str, Any]:
    spec = push.metadata_spec(raw, KNOWN, UNSUPPORTED)
    if spec.get("secretType") is not None and spec["secretType"] not in TYPES:
        raise ConfigError(
            f"expected one of {', '.join(TYPES)}", field=f"{push.FIELD}.spec.secretType"
        )
    tier = spec.get("tier")
    if tier is not None:
        if not isinstance(tier, Mapping) or (tier.get("type") or "Standard") not in TIERS:
            raise ConfigError(
                f"expected type: one of {', '.join(TIERS)}", field=f"{push.FIELD}.spec.tier"
            )
        if tier.get("policies") is not None:
            raise Unsupported(
                field=f"{push.FIELD}.spec.tier.policies",
                instead="set parameter policies in AWS; secretsync does not manage them",
            )
    return spec


def _type(spec: Mapping[str, Any]) -> str:
    return str(spec.get("secretType") or "String")


def _tier(spec: Mapping[str, Any]) -> str | None:
    tier = spec.get("tier")
    return str(tier.get("type") or "Standard") if isinstance(tier, Mapping) else None


def _foreign(name: str) -> str:
    return (
        f"parameter {name} exists and was not written by a PushSecret (no tag managed-by: "
        "external-secrets); it is left as it is. Push to another remoteKey, or tag it if it may "
        "be replaced"
    )
