"""Where generator values land in the Secret (pure: resolve with a stub generator)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from secretsync.api.externalsecret import ExternalSecretSpec
from secretsync.api.parsing import parse
from secretsync.api.sources import GeneratorRef
from secretsync.errors import ConfigError
from secretsync.providers.base import Provider
from secretsync.resolve import plan

REF = {"generatorRef": {"kind": "SSHKey", "name": "deploy"}}


def _spec(raw: dict[str, Any]) -> ExternalSecretSpec:
    return parse(ExternalSecretSpec, raw, "spec")


def _no_store(ref: Any) -> Provider:
    raise AssertionError("no store is read")


def _no_transform(template: str, key: str, where: str) -> str:
    raise AssertionError


class _Counting:
    def __init__(self) -> None:
        self.runs: list[GeneratorRef] = []
        self._n = itertools.count()

    def __call__(self, ref: GeneratorRef) -> Mapping[str, bytes]:
        self.runs.append(ref)
        n = next(self._n)
        return {"privateKey": f"priv{n}".encode(), "publicKey": f"pub{n}".encode()}


def test_data_entries_naming_one_generator_share_one_run() -> None:
    spec = _spec(
        {
            "data": [
                {"secretKey": "id", "remoteRef": {"key": "privateKey"}, "sourceRef": REF},
                {"secretKey": "id.pub", "remoteRef": {"key": "publicKey"}, "sourceRef": REF},
            ]
        }
    )
    generate = _Counting()
    found = plan.resolve(spec, _no_store, _no_transform, generate)
    assert found.data == {"id": b"priv0", "id.pub": b"pub0"}
    assert len(generate.runs) == 1


def test_each_data_from_entry_runs_its_generator_and_keeps_its_keys() -> None:
    spec = _spec({"dataFrom": [{"sourceRef": REF}]})
    found = plan.resolve(spec, _no_store, _no_transform, _Counting())
    assert found.data == {"privateKey": b"priv0", "publicKey": b"pub0"}


def test_data_from_rewrites_apply_to_generated_keys() -> None:
    rewrite = [{"regexp": {"source": "^(.*)Key$", "target": "ssh-$1"}}]
    spec = _spec({"dataFrom": [{"sourceRef": REF, "rewrite": rewrite}]})
    found = plan.resolve(spec, _no_store, _no_transform, _Counting())
    assert found.data == {"ssh-private": b"priv0", "ssh-public": b"pub0"}


def test_a_data_key_the_generator_does_not_give_names_the_field_and_the_keys() -> None:
    spec = _spec({"data": [{"secretKey": "x", "remoteRef": {"key": "nope"}, "sourceRef": REF}]})
    with pytest.raises(ConfigError) as caught:
        plan.resolve(spec, _no_store, _no_transform, _Counting())
    assert caught.value.field == "spec.data[0].remoteRef.key"
    assert "privateKey, publicKey" in str(caught.value)
    assert "priv0" not in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"dataFrom": [{"sourceRef": REF, "extract": {"key": "k"}}]}, "spec.dataFrom[0]"),
        (
            {"dataFrom": [{"sourceRef": {**REF, "storeRef": {"name": "s"}}}]},
            "spec.dataFrom[0].sourceRef",
        ),
        (
            {"dataFrom": [{"sourceRef": {"generatorRef": {"kind": "SSHKey", "name": "a",
                                                          "apiVersion": "v1"}}}]},
            "spec.dataFrom[0].sourceRef.generatorRef.apiVersion",
        ),
        ({"dataFrom": [{"sourceRef": {"generatorRef": {"kind": "Nope", "name": "a"}}}]},
         "spec.dataFrom[0].sourceRef.generatorRef.kind"),
    ],
)  # fmt: skip
def test_a_generator_entry_is_checked(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _spec(raw)
    assert caught.value.field == field


def test_a_generator_entry_needs_no_store() -> None:
    spec = _spec({"dataFrom": [{"sourceRef": REF}]})
    assert spec.secret_store_ref is None
