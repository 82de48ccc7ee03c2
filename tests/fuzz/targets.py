"""The fuzz targets: one function per parser, bytes in, our typed errors or success out.

Each target turns the bytes into what its parser gets in production (file bytes for SOPS, text
for templates and gjson paths, decoded JSON for the API models) and adds the checks that are
specific to it; `harness.check` turns anything untyped into a Crash.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from secretsync.api.generators import parse_generator
from secretsync.api.objects import (
    is_ours,
    parse_cluster_external_secret,
    parse_external_secret,
    parse_store,
)
from secretsync.errors import SecretSyncError
from secretsync.providers import gjson

# inifmt, walk and the yaml modules are imported lazily by the engine; importing them here lets
# atheris instrument them too.
from secretsync.sops import engine, inifmt, keys, walk, yamlemit, yamlfast, yamlfmt  # noqa: F401
from secretsync.sops.formats import store_for
from secretsync.sops.metadata import from_plain
from secretsync.sops.tree import Branch, Value
from secretsync.template import render, render_keys_and_values
from tests.fuzz.harness import Crash, Target, leaks

CORPUS = Path(__file__).parent / "corpus"
KEYS = CORPUS / "keys"
SOPS_FORMATS = ("yaml", "json", "dotenv", "ini", "binary")

TEMPLATE_DATA = {
    "username": b"fuzz-admin",
    "password": b"fuzz-template-secret-3f9a",
    "json": b'{"user":"fuzz-admin","pass":"fuzz-template-secret-3f9a","n":[1,2]}',
    "yaml": b"user: fuzz-admin\npass: fuzz-template-secret-3f9a\n",
    "empty": b"",
}
TEMPLATE_SECRETS = ("fuzz-template-secret-3f9a",)
MIN_SECRET_LEN = 8
"""Shorter decrypted values (`true`, `Secret`) occur in our own messages by chance."""


@functools.cache
def identities() -> keys.Identities:
    """Every age key that opens a seed file: the interop vectors' and our own fuzz key."""
    text = "\n".join(path.read_text() for path in sorted(KEYS.glob("*.txt")))
    return keys.parse_identities(text, str(KEYS))


@functools.cache
def plaintexts() -> frozenset[str]:
    """The decrypted values of every encrypted seed: what no error may ever show."""
    found: set[str] = set()
    for fmt in SOPS_FORMATS:
        store = store_for(fmt)
        for path in sorted((CORPUS / f"sops_{fmt}").glob("*")):
            data = path.read_bytes()
            with contextlib.suppress(SecretSyncError):
                opened = engine.open_file(data, store, identities())
                for branch in opened.branches:
                    # Values stored in the clear (`kind: Secret`) are no secret.
                    found.update(
                        s
                        for s in _strings(branch)
                        if len(s) >= MIN_SECRET_LEN and s.encode(errors="replace") not in data
                    )
    return frozenset(found)


def _strings(value: Value) -> Iterator[str]:
    if isinstance(value, Branch):
        for key, child in value.items:
            yield from _strings(child)
            del key
    elif isinstance(value, tuple):
        for child in value:
            yield from _strings(child)
    elif isinstance(value, str):
        yield value


def _sops(fmt: str) -> Target:
    store = store_for(fmt)

    def target(data: bytes) -> None:
        # The plaintext side (what `encrypt` reads and `decrypt` writes) must load and emit.
        with contextlib.suppress(SecretSyncError):
            store.plain_emitter(engine.load_plain(data, store, "fuzz-input"), None)
        # The decrypt path: all or nothing, and no decrypted value in any error.
        try:
            engine.decrypt(data, store, identities(), source="fuzz-input")
        except SecretSyncError as exc:
            secret = leaks(exc, plaintexts(), data)
            if secret is not None:
                raise Crash(
                    f"{type(exc).__name__} reveals a decrypted value of {len(secret)} characters"
                ) from None
            raise

    target.__name__ = f"sops_{fmt}"
    return target


def sops_metadata(data: bytes) -> None:
    """The `sops` block as any JSON value: parse it, then try our keys on its key groups."""
    raw = _json(data)
    if raw is _NOT_JSON:
        return
    metadata = from_plain(raw)
    _ = metadata.mac_aad
    with contextlib.suppress(SecretSyncError):
        engine.data_key(metadata, identities())


def template(data: bytes) -> None:
    """Template text (Kubernetes strings are valid UTF-8) through lexer, parser and executor,
    both as a `data` template and as a KeysAndValues literal; errors are redacted."""
    text = data.decode("utf-8", "replace")
    for keys_and_values in (False, True):
        try:
            if keys_and_values:
                render_keys_and_values(text, TEMPLATE_DATA)
            else:
                render({"fuzz": text}, TEMPLATE_DATA)
        except SecretSyncError as exc:
            if leaks(exc, TEMPLATE_SECRETS, data) is not None:
                raise Crash(f"{type(exc).__name__} reveals a data value") from None


def gjson_path(data: bytes) -> None:
    """First line: a gjson path; the rest: the document, often not JSON (AWS secret strings)."""
    path_bytes, _, doc_bytes = data.partition(b"\n")
    path = path_bytes.decode("utf-8", "replace")
    text = doc_bytes.decode("utf-8", "replace")
    found = gjson.lookup(text, path)
    if found is not None:
        found.text()
        gjson.byte_value(found.value)
        gjson.marshal(found.value)
    decoded = gjson.loads(text)
    if gjson.loads(gjson.marshal(decoded)) != decoded:
        raise Crash("marshal does not round-trip through loads")


def api_models(data: bytes) -> None:
    """Any JSON object as each kind the operator parses; each parser on its own."""
    raw = _json(data)
    if not isinstance(raw, dict):
        return
    for parser in (
        parse_external_secret,
        parse_store,
        parse_cluster_external_secret,
        parse_generator,
    ):
        with contextlib.suppress(SecretSyncError):
            parser(raw)
    is_ours(raw, "ExternalSecret")


_NOT_JSON: Any = object()


def _json(data: bytes) -> Any:
    """What the apiserver could hand over: strict JSON only (no NaN), else _NOT_JSON."""
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


TARGETS: dict[str, Target] = {
    **{f"sops_{fmt}": _sops(fmt) for fmt in SOPS_FORMATS},
    "sops_metadata": sops_metadata,
    "template": template,
    "gjson": gjson_path,
    "api": api_models,
}
