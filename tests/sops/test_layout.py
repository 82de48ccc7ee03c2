"""Layout stability: decrypting and re-encrypting our own output changes only lastmodified/MAC."""

from __future__ import annotations

import re

import pytest

from secretsync.sops import engine, keys
from secretsync.sops.formats import store_for
from tests.sops.samples import SAMPLES

IDENTITY, RECIPIENT = keys.generate()
IDENTITIES = keys.parse_identities(IDENTITY)


def _without_mac(data: bytes) -> bytes:
    data = re.sub(rb"(lastmodified\W+)[0-9TZ:-]+", rb"\1", data)
    return re.sub(rb"(mac\W+)ENC\[[^\]]+\]", rb"\1", data)


@pytest.mark.parametrize("fmt", ["yaml", "json", "dotenv", "ini", "binary"])
def test_reencrypting_with_the_same_key_changes_nothing_but_the_mac(fmt: str) -> None:
    store = store_for(fmt)
    first = engine.encrypt(SAMPLES[fmt], store, engine.Recipients(((RECIPIENT,),)))
    again = engine.reencrypt(engine.open_file(first, store, IDENTITIES), store)
    assert _without_mac(again) == _without_mac(first)
    assert engine.decrypt(again, store, IDENTITIES) == engine.decrypt(first, store, IDENTITIES)


def test_an_edit_changes_only_the_edited_value() -> None:
    store = store_for("yaml")
    first = engine.encrypt(b"a: one\nb: two\n", store, engine.Recipients(((RECIPIENT,),)))
    opened = engine.open_file(first, store, IDENTITIES)
    edited = store.load(b"a: one\nb: three\n", "edit")
    second = engine.reencrypt(opened, store, edited)
    first_lines = _without_mac(first).splitlines()
    second_lines = _without_mac(second).splitlines()
    changed = [a for a, b in zip(first_lines, second_lines, strict=True) if a != b]
    assert len(changed) == 1
    assert changed[0].startswith(b"b: ENC[")
