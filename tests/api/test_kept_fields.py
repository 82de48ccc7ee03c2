"""What ESO defines and secretsync does not implement is kept in the schema (any value, stored
verbatim) and refused by the parser with `Unsupported`, naming the field path and what to use."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from secretsync.api import objects
from secretsync.api.crds import all_crds
from secretsync.api.externalsecret import ExternalSecretSpec
from secretsync.api.fields import KeptOption, field, json_name, kept, meta_of
from secretsync.api.parsing import hints, parse
from secretsync.api.schema import object_schema
from secretsync.api.store import ESO_PROVIDERS_KEPT, SecretStoreSpec
from secretsync.errors import ConfigError, Unsupported

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Inner:
    name: str = field("A real field.")
    later: Any = kept("Not yet.", instead="use name")  # noqa: RUF009


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Outer:
    items: tuple[_Inner, ...] = field("A list.", default=())


def test_a_kept_field_is_an_untyped_preserved_node() -> None:
    schema = object_schema(_Inner)
    assert schema["properties"]["later"] == {
        "description": "Not yet.",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert schema["properties"]["name"]["type"] == "string"


def test_a_set_kept_field_is_unsupported_with_its_path_and_the_alternative() -> None:
    with pytest.raises(Unsupported) as caught:
        parse(_Outer, {"items": [{"name": "a"}, {"name": "b", "later": {"x": [1]}}]}, "spec")
    assert str(caught.value) == "spec.items[1].later: is not supported by secretsync; use name"
    assert caught.value.field == "spec.items[1].later"
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize("zero", [None, False, "", []])
def test_go_zero_values_count_as_unset(zero: object) -> None:
    parsed = parse(_Outer, {"items": [{"name": "a", "later": zero}]}, "spec")
    assert parsed.items[0].name == "a"


def _store(provider: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": "s"},
        "spec": {"provider": provider},
    }


def test_the_provider_schema_lists_every_eso_provider_and_ours() -> None:
    (store,) = [c for c in all_crds() if c["spec"]["names"]["kind"] == "SecretStore"]
    for version in store["spec"]["versions"]:
        provider = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
            "provider"
        ]
        names = set(provider["properties"])
        assert names == {"vault", "aws", "sops", *ESO_PROVIDERS_KEPT}
        assert (provider["minProperties"], provider["maxProperties"]) == (1, 1)
        assert provider["properties"]["gcpsm"]["x-kubernetes-preserve-unknown-fields"] is True
        assert "type" not in provider["properties"]["gcpsm"]
        assert provider["properties"]["vault"]["type"] == "object"


@pytest.mark.parametrize("name", ["gcpsm", "azurekv", "kubernetes", "webhook", "onepasswordSDK"])
def test_an_unimplemented_provider_is_unsupported_naming_the_served_ones(name: str) -> None:
    with pytest.raises(Unsupported) as caught:
        objects.parse_store(_store({name: {"anything": {"kept": True}}}))
    assert str(caught.value) == (
        f"spec.provider.{name}: is not supported by secretsync; use vault, aws or sops"
    )


def test_openbao_points_at_the_vault_provider() -> None:
    with pytest.raises(Unsupported, match=r"spec\.provider\.openBao: .*use the vault provider"):
        objects.parse_store(_store({"openBao": {"server": "https://bao:8200"}}))


def test_a_misspelt_provider_is_not_unsupported_but_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        objects.parse_store(_store({"vualt": {}}))
    assert not isinstance(caught.value, Unsupported)
    assert "vualt is not supported" in str(caught.value)


def _kept_paths(cls: type, path: str = "spec", seen: frozenset[type] = frozenset()) -> set[str]:
    """Every kept field and kept enum value below a model, as `spec.a[].b` / `spec.c: Value`."""
    found: set[str] = set()
    for f in dataclasses.fields(cls):
        meta, name = meta_of(f), json_name(f)
        hint = hints(cls)[f.name] if meta.one_of is None else None
        here = f"{path}.{name}" + ("[]" if typing.get_origin(_optional(hint)) is tuple else "")
        if meta.unsupported is not None:
            found.add(here)
        for value in meta.kept_values or {}:
            found.add(f"{here}: {value}")
        for key, option in (meta.one_of or {}).items():
            if not isinstance(option, KeptOption):
                found |= _kept_paths(option, f"{here}.{key}", seen)
        inner = _item(hint)
        if dataclasses.is_dataclass(inner) and inner not in seen:
            found |= _kept_paths(typing.cast(type, inner), here, seen | {inner})
    return found


def _optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        (hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
    return hint


def _item(hint: Any) -> Any:
    hint = _optional(hint)
    return typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else hint


def test_docs_api_names_every_kept_field_and_no_other() -> None:
    text = DOCS.read_text()
    rows = [line.split("|")[1] for line in text.splitlines() if line.startswith("| `")]
    named = {path for row in rows for path in re.findall(r"`([^`]+)`", row)}
    paths = _kept_paths(ExternalSecretSpec) | _kept_paths(SecretStoreSpec)
    assert paths  # the models do keep some fields
    # One table row per kept field (or value); a field that became real leaves the table.
    assert named == {*paths, "spec.provider.<any other provider>"}
    listed = text.split("Kept providers:")[1].split("##")[0]
    assert sorted(re.findall(r"\w+", listed)) == sorted(ESO_PROVIDERS_KEPT)
