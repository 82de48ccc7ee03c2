"""The stores (file formats) and where each one keeps the `sops` metadata.

YAML and JSON nest a `sops` mapping as the last key; dotenv flattens it into `sops_*` keys; INI
puts flattened keys in a `[sops]` section with newlines escaped. The binary store wraps the whole
file as `{"data": ...}` and is written as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from secretsync.errors import ConfigError
from secretsync.sops.metadata import flatten, to_plain, unflatten
from secretsync.sops.tree import Branch, Comment, Value

METADATA_KEY = "sops"
Layout = Literal["nested", "flat", "section"]
Loader = Callable[[bytes, str], tuple[Branch, ...]]
Emitter = Callable[[tuple[Branch, ...], int | None], bytes]


@dataclass(frozen=True)
class Store:
    name: str
    load: Loader
    emit: Emitter
    layout: Layout
    load_plain: Loader | None = None
    emit_plain: Emitter | None = None

    @property
    def plain_loader(self) -> Loader:
        return self.load_plain or self.load

    @property
    def plain_emitter(self) -> Emitter:
        return self.emit_plain or self.emit

    @property
    def single_value(self) -> bool:
        return self.name == "binary"


def _yaml_load(data: bytes, source: str) -> tuple[Branch, ...]:
    from secretsync.sops.yamlfast import load as fast_load  # noqa: PLC0415 - lazy

    fast = fast_load(data, source)
    if fast is not None:
        return fast
    from secretsync.sops.yamlfmt import load  # noqa: PLC0415 - ruamel only when needed

    return load(data, source)


def _yaml_emit(branches: tuple[Branch, ...], indent: int | None) -> bytes:
    from secretsync.sops.yamlemit import emit  # noqa: PLC0415 - keep start-up lean

    return emit(branches, indent or 4)


def _ini_load(data: bytes, source: str) -> tuple[Branch, ...]:
    from secretsync.sops.inifmt import load  # noqa: PLC0415 - rarely used

    return load(data, source)


def _ini_emit(branches: tuple[Branch, ...], indent: int | None) -> bytes:
    from secretsync.sops.inifmt import emit  # noqa: PLC0415 - rarely used

    return emit(branches)


# Each format's module is imported by its first use: a process reads one or two formats, and
# the CLI's start-up is measured against the sops binary.
def _json_load(data: bytes, source: str) -> tuple[Branch, ...]:
    from secretsync.sops import jsonfmt  # noqa: PLC0415 - lazy

    return jsonfmt.load(data, source)


def _json_emit(branches: tuple[Branch, ...], indent: int | None) -> bytes:
    from secretsync.sops import jsonfmt  # noqa: PLC0415 - lazy

    return jsonfmt.emit(branches, -1 if indent is None else indent)


def _binary_load(data: bytes, source: str) -> tuple[Branch, ...]:
    from secretsync.sops import jsonfmt  # noqa: PLC0415 - lazy

    return jsonfmt.load_binary(data)


def _binary_emit(branches: tuple[Branch, ...], indent: int | None) -> bytes:
    from secretsync.sops import jsonfmt  # noqa: PLC0415 - lazy

    return jsonfmt.emit_binary(branches)


def _dotenv_load(data: bytes, source: str) -> tuple[Branch, ...]:
    from secretsync.sops import dotenvfmt  # noqa: PLC0415 - lazy

    return dotenvfmt.load(data, source)


def _dotenv_emit(branches: tuple[Branch, ...], indent: int | None) -> bytes:
    from secretsync.sops import dotenvfmt  # noqa: PLC0415 - lazy

    return dotenvfmt.emit(branches)


STORES: dict[str, Store] = {
    "yaml": Store("yaml", _yaml_load, _yaml_emit, "nested"),
    "json": Store("json", _json_load, _json_emit, "nested"),
    "dotenv": Store("dotenv", _dotenv_load, _dotenv_emit, "flat"),
    "ini": Store("ini", _ini_load, _ini_emit, "section"),
    "binary": Store(
        "binary",
        _json_load,
        _json_emit,
        "nested",
        load_plain=_binary_load,
        emit_plain=_binary_emit,
    ),
}


def store_for(name: str) -> Store:
    try:
        return STORES[name]
    except KeyError:
        raise ConfigError(
            f"unknown format {name!r}; use one of {', '.join(STORES)}", field="input-type"
        ) from None


def format_for_path(path: str) -> str:
    """sops' rule (cmd/sops/formats): by case-sensitive suffix, anything else is binary."""
    if path.endswith((".yaml", ".yml")):
        return "yaml"
    if path.endswith(".json"):
        return "json"
    if path.endswith(".env"):
        return "dotenv"
    if path.endswith(".ini"):
        return "ini"
    return "binary"


def has_metadata_key(store: Store, branch: Branch) -> bool:
    if store.layout == "flat":
        return any(isinstance(k, str) and k.startswith("sops_") for k, _ in branch.items)
    return any(k == METADATA_KEY for k, _ in branch.items)


def extract_metadata(
    store: Store, branches: tuple[Branch, ...]
) -> tuple[tuple[Branch, ...], dict[str, Any]] | None:
    """Split the metadata off; None when the file has none (it is not encrypted)."""
    if store.layout == "flat":
        return _extract_flat(branches)
    found: Value = None
    out = []
    for index, branch in enumerate(branches):
        kept = []
        for key, value in branch.items:
            if key != METADATA_KEY:
                kept.append((key, value))
            elif index == 0:
                if found is not None:
                    raise ConfigError("found a duplicate sops entry", field="sops")
                found = value
        out.append(Branch(tuple(kept)))
    if found is None:
        return None
    if not isinstance(found, Branch):
        raise ConfigError("is not a mapping", field="sops")
    plain = to_plain(found)
    if store.layout == "section":
        items = [(k, v.replace("\\n", "\n") if isinstance(v, str) else v) for k, v in plain.items()]
        plain = unflatten(items)
    return tuple(out), plain


def _extract_flat(branches: tuple[Branch, ...]) -> tuple[tuple[Branch, ...], dict[str, Any]] | None:
    if not branches:
        return None
    kept: list[tuple[str | Comment, Value]] = []
    flat: list[tuple[str, Any]] = []
    for key, value in branches[0].items:
        if isinstance(key, str) and key.startswith("sops_"):
            flat.append((key[5:], value))
        else:
            kept.append((key, value))
    if not flat:
        return None
    return (Branch(tuple(kept)), *branches[1:]), unflatten(flat)


def embed_metadata(store: Store, branches: tuple[Branch, ...], meta: Branch) -> tuple[Branch, ...]:
    if store.layout == "flat":
        first = Branch(branches[0].items + tuple(flatten(meta, "sops_")))
        return (first, *branches[1:])
    if store.layout == "section":
        flat = tuple(
            (k, v.replace("\n", "\\n") if isinstance(v, str) else v) for k, v in flatten(meta, "")
        )
        meta = Branch(flat)
    return tuple(Branch((*b.items, (METADATA_KEY, meta))) for b in branches)
