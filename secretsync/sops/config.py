""".sops.yaml creation rules: which recipients and encryption rules a new file gets.

Pure: the CLI finds and reads the file; this module parses it and picks the first rule whose
`path_regex` (Go RE2, unanchored) matches the file's path relative to the config's folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from secretsync import goregexp
from secretsync.errors import ConfigError
from secretsync.sops.metadata import to_plain
from secretsync.sops.rules import RULE_FIELDS, Rules

UNSUPPORTED_KEYS = ("pgp", "gcp_kms", "azure_keyvault", "hckms")


@dataclass(frozen=True)
class CreationRule:
    path_regex: str = ""
    groups: tuple[tuple[str, ...], ...] = ()
    shamir_threshold: int = 0
    rules: Rules = field(default_factory=Rules)
    has_rules: bool = False


@dataclass(frozen=True)
class Config:
    rules: tuple[CreationRule, ...] = ()
    yaml_indent: int | None = None
    json_indent: int | None = None


def _recipients(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError("must be a comma-separated string or a list of strings", field=where)
    return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))


def _kms(value: Any, where: str) -> tuple[str, ...]:
    """A rule's `kms`: `ARN[+ROLE]` strings; in key_groups, entries with arn and role."""
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        return _recipients(value, where)
    found = []
    for i, entry in enumerate(value):
        if entry.get("context"):
            raise ConfigError(
                "KMS encryption contexts are not supported; remove context or use sops",
                field=f"{where}[{i}].context",
            )
        if not entry.get("arn"):
            raise ConfigError("needs an arn", field=f"{where}[{i}]")
        role = str(entry.get("role") or "")
        found.append(f"{entry['arn']}+{role}" if role else str(entry["arn"]))
    return tuple(dict.fromkeys(found))


def _keys(raw: dict[str, Any], where: str, vault_field: str) -> tuple[str, ...]:
    """age, kms and Vault transit keys, in one group (a rule names Vault keys in
    `hc_vault_transit_uri`, a key group in `hc_vault`)."""
    return (
        _recipients(raw.get("age"), f"{where}.age")
        + _kms(raw.get("kms"), f"{where}.kms")
        + _recipients(raw.get(vault_field), f"{where}.{vault_field}")
    )


def _groups(raw: dict[str, Any], where: str) -> tuple[tuple[str, ...], ...]:
    listed = raw.get("key_groups")
    if listed is None:
        group = _keys(raw, where, "hc_vault_transit_uri")
        return (group,) if group else ()
    if not isinstance(listed, list):
        raise ConfigError("must be a list", field=f"{where}.key_groups")
    groups = []
    for i, raw_group in enumerate(listed):
        if not isinstance(raw_group, dict):
            raise ConfigError("must be a mapping", field=f"{where}.key_groups[{i}]")
        group = _keys(raw_group, f"{where}.key_groups[{i}]", "hc_vault")
        if not group:
            raise ConfigError(
                "has no age, kms or hc_vault keys; only those are supported",
                field=f"{where}.key_groups[{i}]",
            )
        groups.append(group)
    return tuple(groups)


def _rule(raw: Any, where: str) -> CreationRule:
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping", field=where)
    groups = _groups(raw, where)
    if not groups and any(raw.get(k) for k in UNSUPPORTED_KEYS):
        raise ConfigError(
            "names only keys secretsync cannot encrypt to; use age, kms or hc_vault keys",
            field=where,
        )
    settings = {name: str(raw[name]) for name in RULE_FIELDS if raw.get(name)}
    try:
        threshold = int(raw.get("shamir_threshold") or 0)
    except (TypeError, ValueError):
        raise ConfigError("must be an integer", field=f"{where}.shamir_threshold") from None
    regex = str(raw.get("path_regex") or "")
    goregexp.compile(regex, field=f"{where}.path_regex")
    return CreationRule(
        path_regex=regex,
        groups=groups,
        shamir_threshold=threshold,
        rules=Rules(**settings, mac_only_encrypted=bool(raw.get("mac_only_encrypted"))),
        has_rules=bool(settings) or bool(raw.get("mac_only_encrypted")),
    )


def parse(text: bytes, source: str = ".sops.yaml") -> Config:
    from secretsync.sops.yamlfmt import load  # noqa: PLC0415 - ruamel only when a config exists

    documents = load(text, source)
    raw = to_plain(documents[0]) if documents else {}
    listed = raw.get("creation_rules") or []
    if not isinstance(listed, list):
        raise ConfigError("must be a list", field=f"{source}: creation_rules")
    stores = raw.get("stores") if isinstance(raw.get("stores"), dict) else {}
    assert isinstance(stores, dict)
    return Config(
        rules=tuple(_rule(r, f"{source}: creation_rules[{i}]") for i, r in enumerate(listed)),
        yaml_indent=_indent(stores, "yaml"),
        json_indent=_indent(stores, "json"),
    )


def _indent(stores: dict[str, Any], name: str) -> int | None:
    section = stores.get(name)
    value = section.get("indent") if isinstance(section, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rule_for(config: Config, relative_path: str) -> CreationRule | None:
    """The first rule whose path_regex matches (a rule without one matches every file)."""
    for rule in config.rules:
        if not rule.path_regex or goregexp.match_string(rule.path_regex, relative_path):
            return rule
    return None
