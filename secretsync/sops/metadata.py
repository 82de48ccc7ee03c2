"""The `sops` metadata block: parsed from every layout sops ever wrote, emitted as 3.13 writes it.

Reading goes through plain dicts, so the layout (legacy struct order, omitempty, sorted) does not
matter. Master keys we cannot use (kms, pgp, gcp_kms, azure_kv, hc_vault, hckms) are kept
verbatim, so that rewriting a file never drops another team's keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from secretsync.errors import ConfigError
from secretsync.sops.rules import RULE_FIELDS, Rules
from secretsync.sops.tree import Branch, Comment, Value
from secretsync.sops.values import normalise_rfc3339_seconds

KEY_TYPES = ("kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp", "age")
"""The order sops builds a group in (`internalGroupFrom`): it is the order keys are tried."""

MAP_SEP = "__map_"
LIST_SEP = "__list_"
_SEPARATORS = re.compile("(__map_|__list_)")


@dataclass(frozen=True)
class AgeKey:
    recipient: str
    enc: str


@dataclass(frozen=True)
class OtherKey:
    """A master key of a type we do not decrypt with; its fields are kept as they were."""

    type: str
    fields: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class KeyGroup:
    age: tuple[AgeKey, ...] = ()
    others: tuple[OtherKey, ...] = ()

    def types(self) -> list[str]:
        return sorted({k.type for k in self.others} | ({"age"} if self.age else set()))


@dataclass(frozen=True)
class Metadata:
    key_groups: tuple[KeyGroup, ...]
    lastmodified: str
    mac: str
    version: str
    rules: Rules = field(default_factory=Rules)
    shamir_threshold: int = 0

    @property
    def mac_aad(self) -> str:
        """The MAC's AAD: `lastmodified` re-printed as RFC3339, as sops does before comparing."""
        normal = normalise_rfc3339_seconds(self.lastmodified)
        if normal is None:
            raise ConfigError("is not an RFC3339 timestamp", field="sops.lastmodified")
        return normal


def to_plain(value: Value) -> Any:
    """A Branch turned into dicts and lists (comments dropped), for reading metadata."""
    if isinstance(value, Branch):
        return {k: to_plain(v) for k, v in value.items if not isinstance(k, Comment)}
    if isinstance(value, tuple):
        return [to_plain(v) for v in value if not isinstance(v, Comment)]
    return value


def from_plain(raw: Any) -> Metadata:
    """Parse the metadata mapping; errors name the field (`sops.age[0].enc`)."""
    if not isinstance(raw, dict):
        raise ConfigError("the sops metadata is not a mapping", field="sops")
    rules = Rules(
        **{name: _text(raw, name) for name in RULE_FIELDS},
        mac_only_encrypted=_bool(raw.get("mac_only_encrypted")),
    )
    top = _group(raw, "sops")
    groups: tuple[KeyGroup, ...]
    if top.age or top.others:
        groups = (top,)
    else:
        listed = raw.get("key_groups") or []
        if not isinstance(listed, list):
            raise ConfigError("must be a list", field="sops.key_groups")
        groups = tuple(_group(g, f"sops.key_groups[{i}]") for i, g in enumerate(listed))
    if not groups:
        raise ConfigError("no keys found in the sops metadata", field="sops")
    return Metadata(
        key_groups=groups,
        lastmodified=_text(raw, "lastmodified"),
        mac=_text(raw, "mac"),
        version=_text(raw, "version"),
        rules=rules,
        shamir_threshold=_int(raw.get("shamir_threshold"), "sops.shamir_threshold"),
    )


def _group(raw: Any, where: str) -> KeyGroup:
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping", field=where)
    ages: list[AgeKey] = []
    others: list[OtherKey] = []
    for key_type in KEY_TYPES:
        entries = raw.get(key_type) or []
        if not isinstance(entries, list):
            raise ConfigError("must be a list", field=f"{where}.{key_type}")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ConfigError("must be a mapping", field=f"{where}.{key_type}[{i}]")
            if key_type == "age":
                ages.append(AgeKey(_text(entry, "recipient"), _text(entry, "enc")))
            else:
                others.append(OtherKey(key_type, tuple(entry.items())))
    return KeyGroup(tuple(ages), tuple(others))


def _text(raw: dict[str, Any], key: str) -> str:
    # mapstructure decodes weakly typed input, so a number or bool here is read as its text.
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return value if isinstance(value, str) else str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"1", "t", "true"}
    return bool(value)


def _int(value: Any, where: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: inf
        raise ConfigError("must be an integer", field=where) from exc


def to_branch(meta: Metadata) -> Branch:
    """The 3.13 layout: every map sorted by key, empty key lists omitted."""
    out: dict[str, Any] = {}
    if len(meta.key_groups) == 1:
        out.update(_group_plain(meta.key_groups[0], keep_empty=False))
    else:
        out["key_groups"] = [_group_plain(g, keep_empty=True) for g in meta.key_groups]
    if meta.shamir_threshold:
        out["shamir_threshold"] = meta.shamir_threshold
    out["lastmodified"] = meta.lastmodified
    out["mac"] = meta.mac
    for name in RULE_FIELDS:
        if getattr(meta.rules, name):
            out[name] = getattr(meta.rules, name)
    if meta.rules.mac_only_encrypted:
        out["mac_only_encrypted"] = True
    out["version"] = meta.version
    result = _sorted(out)
    assert isinstance(result, Branch)
    return result


def _group_plain(group: KeyGroup, *, keep_empty: bool) -> dict[str, Any]:
    # Inside key_groups sops has no omitempty on `age` and `hc_vault`, so they stay as [].
    out: dict[str, Any] = {"age": [], "hc_vault": []} if keep_empty else {}
    for other in group.others:
        out.setdefault(other.type, []).append(dict(other.fields))
    if group.age:
        out["age"] = [{"enc": k.enc, "recipient": k.recipient} for k in group.age]
    return out


def _sorted(value: Any) -> Value:
    if isinstance(value, dict):
        return Branch(tuple((k, _sorted(value[k])) for k in sorted(value)))
    if isinstance(value, list):
        return tuple(_sorted(v) for v in value)
    return value  # type: ignore[no-any-return]


def flatten(branch: Branch, prefix: str) -> list[tuple[str, Value]]:
    """dotenv/INI metadata: `age__list_0__map_enc` style keys (stores/flatten.go)."""
    out: list[tuple[str, Value]] = []
    for key, value in branch.items:
        if isinstance(key, str):
            _flatten_into(value, prefix + key, out)
    return out


def _flatten_into(value: Value, key: str, out: list[tuple[str, Value]]) -> None:
    if isinstance(value, Branch):
        for sub, item in value.items:
            if isinstance(sub, str):
                _flatten_into(item, f"{key}{MAP_SEP}{sub}", out)
    elif isinstance(value, tuple):
        items = [v for v in value if not isinstance(v, Comment)]
        for i, item in enumerate(items):
            _flatten_into(item, f"{key}{LIST_SEP}{i}", out)
    else:
        out.append((key, value))


def unflatten(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """The inverse of `flatten`, tolerant of any key order (3.7 wrote Go map order)."""
    root: dict[str, Any] = {}
    for key, value in items:
        _place(root, _tokenize(key), value)
    result = _lists(root)
    assert isinstance(result, dict)
    return result


def _tokenize(path: str) -> list[str | int]:
    parts = _SEPARATORS.split(path)
    tokens: list[str | int] = [parts[0]]
    for sep, part in zip(parts[1::2], parts[2::2], strict=True):
        # ASCII digits only, as Go's strconv.Atoi; isdigit() alone admits "²", which int() refuses.
        index = sep == LIST_SEP and part.isascii() and part.isdigit()
        tokens.append(int(part) if index else part)
    return tokens


def _place(node: dict[Any, Any], tokens: list[str | int], value: Any) -> None:
    for token in tokens[:-1]:
        child = node.setdefault(token, {})
        if not isinstance(child, dict):
            raise ConfigError("flattened metadata keys collide", field="sops")
        node = child
    node[tokens[-1]] = value


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(k, int) for k in node):
        return [_lists(node[k]) for k in sorted(node)]
    return {k: _lists(v) for k, v in node.items()}
