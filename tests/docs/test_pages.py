"""The provider pages show, for every auth method the models define, a whole example from
examples/ (so the page shows what the dry-run test applies), and troubleshooting.md explains
every condition and Event reason the code can emit."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from secretsync.api.aws import AWSAuth
from secretsync.api.fields import json_name, meta_of
from secretsync.api.vault import VaultAuth
from secretsync.sops.yamlplain import load_documents
from tests.docs.pages import ROOT, fenced, pages
from tests.docs.reasons import all_reasons, reasons_in

PROVIDERS = ROOT / "docs" / "providers"
EMBEDDED = re.compile(r"# (examples/\S+\.yaml)\n")


def _embedded(page: Path) -> dict[str, str]:
    """examples/ path -> the block's text, for each yaml block that starts `# examples/...`."""
    found = {}
    for language, body in fenced(page):
        match = EMBEDDED.match(body)
        if language == "yaml" and match:
            found[match.group(1)] = body[match.end() :]
    return found


def _auth_methods(cls: type) -> set[str]:
    """The auth blocks a store's models implement (not the kept ones, not `namespace`)."""
    return {
        json_name(f)
        for f in dataclasses.fields(cls)
        if meta_of(f).unsupported is None and f.name != "namespace"
    }


def _stores(page: Path) -> list[dict[str, Any]]:
    return [
        d
        for path in _embedded(page)
        for d in load_documents((ROOT / path).read_text(), path)
        if d["kind"] in ("SecretStore", "ClusterSecretStore")
    ]


@pytest.mark.parametrize("page", sorted(PROVIDERS.glob("*.md")), ids=lambda p: p.name)
def test_an_embedded_example_is_the_file_as_it_is(page: Path) -> None:
    embedded = _embedded(page)
    assert embedded, f"{page.name} shows no example from examples/"
    for path, body in embedded.items():
        assert (ROOT / path).read_text() == body, f"{page.name}: {path} differs from the file"


def test_there_is_a_page_per_store_provider() -> None:
    assert {p.stem for p in PROVIDERS.glob("*.md")} == {
        "vault",
        "aws-secretsmanager",
        "aws-parameterstore",
        "sops-git",
    }


def test_the_vault_page_shows_every_auth_method() -> None:
    used = {
        m for s in _stores(PROVIDERS / "vault.md") for m in s["spec"]["provider"]["vault"]["auth"]
    }
    assert _auth_methods(VaultAuth) == {
        "tokenSecretRef",
        "appRole",
        "kubernetes",
        "ldap",
        "userPass",
        "jwt",
        "cert",
        "iam",
    }
    assert used == _auth_methods(VaultAuth)


@pytest.mark.parametrize("page", ["aws-secretsmanager.md", "aws-parameterstore.md"])
def test_an_aws_page_shows_static_keys_web_identity_and_role_assumption(page: str) -> None:
    ways = set()
    for store in _stores(PROVIDERS / page):
        aws = store["spec"]["provider"]["aws"]
        ways |= set(aws.get("auth") or {}) | ({"role"} if aws.get("role") else set())
    assert _auth_methods(AWSAuth) == {"secretRef", "jwt"}
    assert ways == _auth_methods(AWSAuth) | {"role"}


def test_the_sops_page_shows_public_https_ssh_and_token_access() -> None:
    kinds = set()
    page = PROVIDERS / "sops-git.md"
    for path in _embedded(page):
        documents = load_documents((ROOT / path).read_text(), path)
        secrets = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Secret"}
        for store in (d for d in documents if d["kind"] == "SecretStore"):
            git = store["spec"]["provider"]["sops"]["git"]
            ref = git.get("secretRef")
            if ref is None:
                kinds.add("anonymous")
            else:
                kinds |= set(secrets[ref["name"]].get("stringData") or {})
    assert {"anonymous", "identity", "known_hosts", "bearerToken"} <= kinds


def test_every_condition_and_event_reason_is_explained_in_troubleshooting() -> None:
    page = (ROOT / "docs" / "troubleshooting.md").read_text()
    explained = set(re.findall(r"^#{2,4} `(\w+)`", page, re.MULTILINE))
    assert sorted(all_reasons() - explained) == []


def test_the_reason_scanner_finds_each_way_a_reason_is_given() -> None:
    source = """
import enum
DEADLINE = "PastDeadline"
class Reason(enum.StrEnum):
    SYNCED = "FromEnum"
def f(self, events, report):
    events.record(raw, "ExternalSecret", "FromEvent", "a message")
    self._events.record(raw, "ExternalSecret", "FromPrivateEvents", "a message")
    self.report.record(raw, es, outcome, "FromReport")
    self._status(raw, kind, "False", "FromStoreStatus", "a message")
    Verdict(State.FAILED, DEADLINE, "a message")
    Verdict(State.WAIT, "NeverShown", "a message")
    self._write(x, reason="FromKeyword")
    reason = reason or ("FromOr" if ok else "FromElse")
    event = "FromEventVariable"
_EVENTS = {1: "FromEventsMap"}
"""
    assert reasons_in(source) == {
        "FromEnum",
        "FromEvent",
        "FromPrivateEvents",
        "FromReport",
        "FromStoreStatus",
        "PastDeadline",
        "FromKeyword",
        "FromOr",
        "FromElse",
        "FromEventVariable",
        "FromEventsMap",
    }


def test_the_scanner_finds_the_reasons_people_see_most() -> None:
    assert {"SecretSynced", "SecretSyncedError", "UpdateFailed", "RolloutFailed"} <= all_reasons()


def test_the_pages_this_test_reads_are_the_ones_the_link_test_reads() -> None:
    assert {*PROVIDERS.glob("*.md"), ROOT / "docs" / "troubleshooting.md"} <= set(pages())
