"""What to do to the target Secret, given what it should hold and what it holds now (pure).

A Secret controlled by something else is never overwritten; an immutable Secret's data is never
changed; when nothing would change, nothing is written.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from secretsync.api.objects import ExternalSecret
from secretsync.api.target import CreationPolicy, DeletionPolicy
from secretsync.resolve.plan import Resolved
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, Desired, data_hash, manifest


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOTHING = "nothing"
    WAIT = "wait"
    """Merge into a Secret that does not exist yet: nothing to do until it appears."""

    REFUSE = "refuse"


@dataclasses.dataclass(frozen=True)
class Write:
    action: Action
    body: dict[str, Any] | None = None
    reason: str = ""
    """Why (for REFUSE, WAIT and DELETE), in words for the status and the Event."""


def decode_data(secret: Mapping[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}


def owner_reference(es: ExternalSecret) -> dict[str, Any]:
    return {
        "apiVersion": es.api_version,
        "kind": "ExternalSecret",
        "name": es.metadata.name,
        "uid": es.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _controller(secret: Mapping[str, Any]) -> Mapping[str, Any] | None:
    refs = (secret.get("metadata") or {}).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


def plan(  # noqa: PLR0911 - a decision list: one early return per case, as in kopf
    es: ExternalSecret, want: Desired, resolved: Resolved, existing: Mapping[str, Any] | None
) -> Write:
    target = es.spec.target
    if target.creation_policy is CreationPolicy.NONE:
        return Write(Action.NOTHING)
    if resolved.everything_missing and target.deletion_policy is DeletionPolicy.DELETE:
        return _delete(es, existing)
    if existing is None:
        if target.creation_policy is CreationPolicy.MERGE:
            return Write(
                Action.WAIT, reason="secret will not be created due to CreationPolicy=Merge"
            )
        return Write(Action.CREATE, body=_new(es, want))
    refused = _foreign(es, existing)
    if refused is not None:
        return refused
    body = _updated(es, want, existing)
    if body == existing:
        return Write(Action.NOTHING)
    if existing.get("immutable") and body.get("data") != existing.get("data"):
        return Write(Action.REFUSE, reason="could not update secret, target is immutable")
    return Write(Action.UPDATE, body=body)


def _foreign(es: ExternalSecret, existing: Mapping[str, Any]) -> Write | None:
    """A Secret controlled by something else is never written to, nor deleted."""
    controller = _controller(existing)
    if controller is None or controller.get("uid") == es.metadata.uid:
        return None
    return Write(
        Action.REFUSE,
        reason=(
            f"target is owned by {controller.get('kind')} {controller.get('name')}; "
            "it is never overwritten"
        ),
    )


def _delete(es: ExternalSecret, existing: Mapping[str, Any] | None) -> Write:
    """Every remote key is gone under deletionPolicy Delete: delete the Secret, but only one
    this ExternalSecret owns (ESO refuses with any creationPolicy but Owner)."""
    policy = es.spec.target.creation_policy
    if policy is not CreationPolicy.OWNER:
        return Write(
            Action.REFUSE,
            reason=f"unable to delete secret: creationPolicy={policy.value} is not Owner",
        )
    deleted = "secret deleted due to DeletionPolicy=Delete"
    if existing is None:
        return Write(Action.NOTHING, reason=deleted)
    return _foreign(es, existing) or Write(Action.DELETE, reason=deleted)


def _new(es: ExternalSecret, want: Desired) -> dict[str, Any]:
    body = manifest(es, want)
    if es.spec.target.creation_policy is CreationPolicy.OWNER:
        body["metadata"]["ownerReferences"] = [owner_reference(es)]
    return body


def _updated(es: ExternalSecret, want: Desired, existing: Mapping[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(dict(existing))
    meta = body.setdefault("metadata", {})
    data = dict(want.data)
    if es.spec.target.creation_policy is CreationPolicy.MERGE:
        data = {**decode_data(existing), **want.data}
    meta["labels"] = {**(meta.get("labels") or {}), **want.labels}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        **want.annotations,
        DATA_HASH_ANNOTATION: data_hash(data),
    }
    if data:
        body["data"] = {k: base64.b64encode(v).decode() for k, v in sorted(data.items())}
    else:
        body.pop("data", None)  # the apiserver omits empty data; keep the comparison honest
    if want.type:
        body["type"] = want.type
    if es.spec.target.immutable:
        body["immutable"] = True
    _set_owner(es, meta)
    return body


def _set_owner(es: ExternalSecret, meta: dict[str, Any]) -> None:
    refs = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != es.metadata.uid]
    if es.spec.target.creation_policy is CreationPolicy.OWNER:
        refs.append(owner_reference(es))
    if refs:
        meta["ownerReferences"] = refs
    else:
        meta.pop("ownerReferences", None)
