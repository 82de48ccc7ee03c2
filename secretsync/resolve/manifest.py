"""The object a `spec.target.manifest` ExternalSecret should produce: a ConfigMap or a custom
resource instead of a Secret (pure; ESO 2.9's applyTemplateToManifest).

- A new object starts with `data: {}` (ConfigMap) or `spec: {}` (any other kind); under
  creationPolicy Merge the existing object is the starting point.
- Labels and annotations: the ExternalSecret's own without a template, else the template's
  metadata as written (not rendered); plus the managed label.
- Without a template, the provider data goes to `data` (ConfigMap) or `spec.data` (other kinds)
  as strings. With one, the templateFrom placements and template.data are applied: Data,
  Annotations and Labels as for a Secret (case-insensitive), `spec` as `spec.<key>`, and any
  other target as a field path (`spec.rules[0].hosts`), where a value is read as YAML and a
  whole KeysAndValues document is merged into the map already there.
- The data-hash annotation is ESO's: sha3-224 of Go's `%+v` of `spec`, else of `data`.

Values are written as text: ConfigMaps and custom resources are not encrypted at rest, which
is why the operator needs --unsafe-allow-generic-targets (as ESO does).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from secretsync.api.objects import ExternalSecret
from secretsync.errors import ConfigError
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, MANAGED_LABEL
from secretsync.resolve.templating import Placement
from secretsync.template.goyaml import YAMLError, unmarshal_yaml
from secretsync.template.values import format_value

MAX_INDEX = 10_000
"""ESO's cap on a `[n]` index in a target path (it grows lists up to it)."""

# kubectl's client-side apply record belongs to the ExternalSecret, not to its target.
_NOT_COPIED = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
_SEGMENT = re.compile(r"^([^\[]*)((?:\[[^\]]*\])*)$")


@dataclasses.dataclass(frozen=True)
class Content:
    """What the resolver hands over: the provider data, and the rendered template placements
    (None when the ExternalSecret has no template)."""

    data: dict[str, bytes]
    placements: tuple[Placement, ...] | None = None


def content_hash(obj: Mapping[str, Any]) -> str | None:
    """ESO's genericTargetContentHash; None when the object has neither spec nor data."""
    for name in ("spec", "data"):
        if obj.get(name) is not None:
            return hashlib.sha3_224(format_value(obj[name], top=False).encode()).hexdigest()
    return None


def build(es: ExternalSecret, content: Content, base: Mapping[str, Any] | None) -> dict[str, Any]:
    """The desired object, before ownership (reconcile decides that against the live one)."""
    ref = es.spec.target.generic
    assert ref is not None, "only for target.manifest"
    if base is not None:
        obj = copy.deepcopy(dict(base))
    else:
        obj = {
            "apiVersion": ref.api_version,
            "kind": ref.kind,
            "metadata": {"name": es.target_name, "namespace": es.metadata.namespace},
            ("data" if ref.kind in ("ConfigMap", "Secret") else "spec"): {},
        }
    meta = obj.setdefault("metadata", {})
    template = es.spec.target.template
    if template is None:
        labels, annotations = es.metadata.labels, es.metadata.annotations
    else:
        metadata = template.metadata
        labels = metadata.labels if metadata else {}
        annotations = metadata.annotations if metadata else {}
    meta["labels"] = {**(meta.get("labels") or {}), **labels, MANAGED_LABEL: "true"}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        **{k: v for k, v in annotations.items() if k not in _NOT_COPIED},
    }
    if content.placements is None:
        _simple(obj, content.data)
    else:
        for placed in content.placements:
            _place(obj, placed)
    obj = {k: _plain_numbers(v) for k, v in obj.items()}
    digest = content_hash(obj)
    if digest is None:
        raise ConfigError(
            "the target has neither spec nor data to hash; write at least one of them",
            field="spec.target.template",
        )
    obj["metadata"]["annotations"][DATA_HASH_ANNOTATION] = digest
    return obj


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _simple(obj: dict[str, Any], data: Mapping[str, bytes]) -> None:
    text = {k: _text(v) for k, v in data.items()}
    if obj.get("kind") == "ConfigMap":
        obj["data"] = text
        return
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    spec["data"] = text


def _place(obj: dict[str, Any], placed: Placement) -> None:
    if placed.whole:
        _apply_document(obj, placed.target, placed.document)
        return
    for key, value in placed.values.items():
        _apply_value(obj, placed.target, key, _text(value))


def _apply_value(obj: dict[str, Any], target: str, key: str, value: str) -> None:
    """ESO's applyToTarget for one rendered key and value."""
    lowered = (target or "Data").lower()
    if lowered in ("annotations", "labels"):
        meta = obj.setdefault("metadata", {})
        found = meta.get(lowered) or {}
        meta[lowered] = {**found, key: value}
    elif lowered in ("data", "spec"):
        section = obj.setdefault(lowered, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{lowered} of the target is not an object", field="spec.target")
        section[key] = value
    else:
        # A field path takes the value itself (read as YAML), whatever its key: ESO's rule.
        _set_at(obj, target, _tokens(target), lambda _old: _yaml_or_text(value))


def _apply_document(obj: dict[str, Any], target: str, document: Any) -> None:
    """ESO's applyParsedToPath: one key replaces; a deeper path merges maps into the map
    already there (one level) or replaces anything else."""
    tokens = _tokens(target)

    def leaf(old: Any) -> Any:
        if len(tokens) > 1 and isinstance(old, dict) and isinstance(document, dict):
            return {**old, **document}
        return copy.deepcopy(document)

    _set_at(obj, target, tokens, leaf)


def _yaml_or_text(value: str) -> Any:
    try:
        return unmarshal_yaml(value)
    except YAMLError:
        return value


def _tokens(target: str) -> list[str | int]:
    """`spec.rules[0].from[0].source` -> ["spec", "rules", 0, "from", 0, "source"]."""
    where = "spec.target.template.templateFrom.target"
    tokens: list[str | int] = []
    for segment in target.split("."):
        match = _SEGMENT.match(segment)
        if not segment or match is None:
            raise ConfigError(f"invalid path {target!r}: empty or malformed segment", field=where)
        name, indexes = match.groups()
        if name:
            tokens.append(name)
        elif not indexes:
            raise ConfigError(f"invalid path {target!r}: empty segment", field=where)
        for raw in re.findall(r"\[([^\]]*)\]", indexes):
            if not re.fullmatch(r"[+-]?[0-9]+", raw):
                raise ConfigError(f"invalid path {target!r}: bad index {raw!r}", field=where)
            index = int(raw)
            if index < 0 or index > MAX_INDEX:
                raise ConfigError(
                    f"invalid path {target!r}: index {index} outside 0..{MAX_INDEX}", field=where
                )
            tokens.append(index)
    if not tokens or not isinstance(tokens[0], str):
        raise ConfigError(f"invalid path {target!r}: it must start with a key", field=where)
    return tokens


def _set_at(node: Any, target: str, tokens: Sequence[str | int], leaf: Any) -> Any:
    """Walk `tokens`, creating maps and growing lists, and set the leaf; returns the node."""
    head, rest = tokens[0], tokens[1:]
    if isinstance(head, str):
        if node is not None and not isinstance(node, dict):
            raise ConfigError(
                f"failed to set path {target}: expected an object at {head!r}",
                field="spec.target.template",
            )
        container: Any = node if node is not None else {}
    else:
        if node is not None and not isinstance(node, list):
            raise ConfigError(
                f"failed to set path {target}: expected a list at [{head}]",
                field="spec.target.template",
            )
        container = list(node or [])
        container.extend([None] * (head + 1 - len(container)))
    current = container.get(head) if isinstance(container, dict) else container[head]
    container[head] = leaf(current) if not rest else _set_at(current, target, rest, leaf)
    return container


def _plain_numbers(value: Any) -> Any:
    """Whole floats (YAML numbers arrive as float64) as integers, as Go's JSON writes them and
    the API server reads them back, so the hash of the object as read matches the annotation
    (ESO hashes the float, `1e+06`, and then finds `1000000` on the object it reads)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value
