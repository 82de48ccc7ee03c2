"""What ESO defines and secretsync does not implement is kept in the schema (any value, stored
verbatim) and refused by the parser with `Unsupported`, naming the field path and what to use."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from secretsync.api import objects
from secretsync.api.crds import all_crds
from secretsync.api.fields import field, kept
from secretsync.api.parsing import parse
from secretsync.api.schema import object_schema
from secretsync.api.store import ESO_PROVIDERS_KEPT
from secretsync.errors import ConfigError, Unsupported


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
