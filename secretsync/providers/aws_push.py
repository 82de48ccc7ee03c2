"""What PushSecret writes to AWS share (pure): ESO's PushSecretMetadata block read for one
service, the managed-by tag, a property merged into a JSON value, and error messages cleared of
the value being written.

A push entry's `metadata` is ESO's
`{apiVersion: kubernetes.external-secrets.io/v1alpha1, kind: PushSecretMetadata, spec: {...}}`.
Fields ESO knows and secretsync does not apply are refused by name (Unsupported), never ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from secretsync.api.push import MANAGED_BY, MANAGED_BY_VALUE
from secretsync.errors import ConfigError, SecretSyncError, Unsupported

METADATA_KIND = "PushSecretMetadata"
METADATA_API_VERSION = "kubernetes.external-secrets.io/v1alpha1"
DESCRIPTION = f"secret '{MANAGED_BY}:{MANAGED_BY_VALUE}'"
"""ESO's default description of what it creates."""

FIELD = "spec.data[].metadata"


def metadata_spec(
    raw: object, known: Iterable[str], unsupported: Mapping[str, str]
) -> dict[str, Any]:
    """The metadata's spec, checked: `known` fields pass, `unsupported` ones (field -> what to
    do instead) are refused by name, anything else is a typo."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"expected a {METADATA_KIND} object", field=FIELD)
    kind = raw.get("kind")
    if kind is not None and kind != METADATA_KIND:
        raise ConfigError(f"kind must be {METADATA_KIND}", field=f"{FIELD}.kind")
    spec = raw.get("spec") or {}
    if not isinstance(spec, Mapping):
        raise ConfigError("expected an object", field=f"{FIELD}.spec")
    for name in spec:
        if name in unsupported:
            raise Unsupported(field=f"{FIELD}.spec.{name}", instead=unsupported[name])
        if name not in known:
            expected = ", ".join(sorted(known))
            raise ConfigError(
                f"unknown field; expected one of {expected}", field=f"{FIELD}.spec.{name}"
            )
    return dict(spec)


def tags(spec: Mapping[str, Any]) -> dict[str, str] | None:
    """The tags to set with the marker; None when the metadata names none (existing tags are
    then left as they are, as ESO does)."""
    given = spec.get("tags")
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise ConfigError("expected a map of strings", field=f"{FIELD}.spec.tags")
    if MANAGED_BY in given:
        raise ConfigError(
            f"the {MANAGED_BY} tag is set by the operator; remove it", field=f"{FIELD}.spec.tags"
        )
    return {**{str(k): str(v) for k, v in given.items()}, MANAGED_BY: MANAGED_BY_VALUE}


def marker_tags(spec: Mapping[str, Any]) -> dict[str, str]:
    """The tags a new secret or parameter is created with."""
    return tags(spec) or {MANAGED_BY: MANAGED_BY_VALUE}


def is_managed(tag_list: Iterable[Mapping[str, Any]]) -> bool:
    return any(t.get("Key") == MANAGED_BY and t.get("Value") == MANAGED_BY_VALUE for t in tag_list)


def tag_changes(
    current: Iterable[Mapping[str, Any]], wanted: Mapping[str, str] | None
) -> tuple[list[str], dict[str, str]]:
    """Keys to remove and tags to set so the remote tags become `wanted` (None: no change)."""
    have = {str(t.get("Key")): str(t.get("Value")) for t in current}
    if wanted is None:
        return [], {}
    remove = sorted(k for k in have if k not in wanted)
    add = {k: v for k, v in wanted.items() if have.get(k) != v}
    return remove, add


def json_object(current: bytes | None, where: str) -> dict[str, Any]:
    """The remote value as a JSON object, for a property push (empty when there is none). The
    decoder's message is not passed on: it may quote the value."""
    if not current:
        return {}
    try:
        parsed = json.loads(current)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError(
            f"{where} does not hold a JSON object, so remoteRef.property cannot be set in it; "
            "push without a property, or to another remoteKey"
        )
    return parsed


def merged(current: bytes | None, prop: str | None, value: bytes, where: str) -> bytes:
    """The value to write: the pushed value itself, or the current JSON object with `prop`
    set to it (a top-level key, as for Vault)."""
    if not prop:
        return value
    document = json_object(current, where)
    document[prop] = value.decode("utf-8", "replace")
    return json.dumps(document, separators=(",", ":")).encode()


def without(current: bytes | None, prop: str, where: str) -> dict[str, Any] | None:
    """The current JSON object less `prop`; None when `prop` is not in it."""
    document = json_object(current, where)
    if prop not in document:
        return None
    return {k: v for k, v in document.items() if k != prop}


def scrubbed(exc: SecretSyncError, written: bytes) -> SecretSyncError:
    """The error of a write, without the value written (AWS validation messages may quote it)."""
    if isinstance(exc, Unsupported):
        return exc  # ours, naming a field: nothing from AWS in it
    message = str(exc)
    texts = {written.decode("utf-8", "replace")}
    try:
        document = json.loads(written)
    except ValueError:
        document = None
    if isinstance(document, dict):
        texts.update(str(v) for v in document.values())
    for text in sorted((t for t in texts if len(t) >= 3), key=len, reverse=True):
        message = message.replace(text, "[value]")
    return type(exc)(message)
