"""Decrypting one SOPS file, and reading values out of it the way ESO reads a JSON secret.

A file is decrypted once (MAC always verified) into two views: its text as `sops decrypt` prints
it, which is what a reference without `property` gets, and its content as a JSON document, which
`property` and `dataFrom.extract` work on. The JSON view goes through Go's json.Marshal (compact,
sorted keys) before a gjson path is applied, exactly as ESO's Vault provider does, so an object
selected by a path reads the same as one selected by its literal key.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from secretsync.errors import ConfigError
from secretsync.providers import gjson
from secretsync.sops import engine, formats, keys

NOT_JSON = object()
"""The document view of a binary file whose plaintext is not JSON."""


@dataclasses.dataclass(frozen=True)
class Plaintext:
    text: bytes = dataclasses.field(repr=False)
    document: Any = dataclasses.field(repr=False)


def decrypt_file(data: bytes, path: str, identities: keys.Identities) -> Plaintext:
    """Both views from one decryption; raises DecryptionError (MacMismatch) or ConfigError."""
    store = formats.store_for(formats.format_for_path(path))
    loaded = engine.load(data, store, source=path)
    key = engine.data_key(loaded.metadata, identities)
    # What `sops decrypt` does (engine.decrypt), in one pass for both views; the MAC is verified.
    opened = engine.open_loaded(loaded, key, verify_mac=True, keep_inline=False)
    text = store.plain_emitter(opened.branches, None)
    if store.single_value:
        return Plaintext(text, _json_or_marker(text))
    as_json = formats.store_for("json").plain_emitter(opened.branches, None)
    return Plaintext(text, gjson.loads(as_json))


def _json_or_marker(text: bytes) -> Any:
    try:
        return gjson.loads(text)
    except (ValueError, UnicodeDecodeError):
        return NOT_JSON


def select(plain: Plaintext, prop: str, where: str) -> bytes:
    """ESO's property rule: the literal top-level key first, then a gjson path."""
    return gjson.byte_value(_selected(_document(plain, where), prop, where))


def _selected(document: Any, prop: str, where: str) -> Any:
    if isinstance(document, dict) and prop in document:
        return document[prop]
    found = gjson.lookup(gjson.marshal(document), prop)
    if found is None:
        # As in ESO this is not "not found" (which drives deletionPolicy): the file exists.
        raise ConfigError(f"{where} has no key {prop!r}", field="remoteRef.property")
    return found.value


def flatten(plain: Plaintext, prop: str | None, where: str) -> dict[str, bytes]:
    """dataFrom.extract: every top-level key of the document (or of the object at `prop`)."""
    document = _document(plain, where)
    if prop is not None:
        document = _selected(document, prop, where)
    if not isinstance(document, dict):
        raise ConfigError(f"{where} is not a mapping of keys to values", field="dataFrom.extract")
    return {str(key): gjson.byte_value(value) for key, value in document.items()}


def _document(plain: Plaintext, where: str) -> Any:
    if plain.document is NOT_JSON:
        raise ConfigError(f"{where} is a binary file, not a document with keys", field="property")
    return plain.document
