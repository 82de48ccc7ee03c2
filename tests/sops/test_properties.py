"""Property tests: arbitrary trees round-trip; tampering never yields plaintext."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretsync.errors import ConfigError, DecryptionError
from secretsync.sops import engine, keys, yamlemit, yamlfast, yamlfmt
from secretsync.sops.formats import store_for
from secretsync.sops.tree import Branch, Comment, Value
from secretsync.sops.yamlcompose import Composer, scan_comments

IDENTITY, RECIPIENT = keys.generate()
IDENTITIES = keys.parse_identities(IDENTITY)
RECIPIENTS = engine.Recipients(((RECIPIENT,),))

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
keys_st = text.filter(lambda k: k != "sops")
leaves = st.one_of(
    text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)


def _branch(children: st.SearchStrategy[Value]) -> st.SearchStrategy[Branch]:
    pairs = st.lists(st.tuples(keys_st, children), max_size=4, unique_by=lambda kv: kv[0])
    return pairs.map(lambda items: Branch(tuple(items)))


values = st.recursive(
    leaves,
    lambda children: st.one_of(st.lists(children, max_size=3).map(tuple), _branch(children)),
    max_leaves=12,
)
documents = _branch(values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_json_tree_round_trips(doc: Branch) -> None:
    store = store_for("json")
    plain = store.emit((doc,), None)
    encrypted = engine.encrypt(plain, store, RECIPIENTS)
    # The round trip is exact for the tree as sops reads it (e.g. JSON -0 reads back as 0).
    assert engine.decrypt(encrypted, store, IDENTITIES) == store.emit(store.load(plain, "t"), None)


def _leading_break(value: object) -> bool:
    if isinstance(value, Branch):
        return any(_leading_break(v) for _, v in value.items)
    if isinstance(value, tuple):
        return any(_leading_break(v) for v in value)
    return isinstance(value, str) and value.startswith("\n")


# go-yaml writes a string that starts with a line break as a `|4-` block, and inside a
# sequence go-yaml cannot read that back (sops 3.13.3: "did not find expected '-' indicator").
# Our emitter writes the same bytes, so such trees are outside what a YAML round trip promises.
yaml_documents = documents.filter(lambda doc: not _leading_break(doc))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_documents)
def test_any_yaml_tree_round_trips(doc: Branch) -> None:
    store = store_for("yaml")
    plain = store.emit((doc,), None)
    encrypted = engine.encrypt(plain, store, RECIPIENTS)
    # The round trip is exact for the tree as sops reads it (e.g. JSON -0 reads back as 0).
    assert engine.decrypt(encrypted, store, IDENTITIES) == store.emit(store.load(plain, "t"), None)


SAMPLE = b"a: secret-one\nb:\n  c: secret-two\n  d: [secret-three, 4]\ne_unencrypted: plain\n"
ENCRYPTED = engine.encrypt(SAMPLE, store_for("yaml"), RECIPIENTS)
ENC_FIELD = re.compile(rb"(data|iv|tag):([A-Za-z0-9+/=]+)")


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_flipping_any_ciphertext_character_never_yields_plaintext(data: st.DataObject) -> None:
    fields = list(ENC_FIELD.finditer(ENCRYPTED))
    match = data.draw(st.sampled_from(fields))
    index = data.draw(st.integers(match.start(2), match.end(2) - 1))
    original = ENCRYPTED[index : index + 1]
    replacement = data.draw(
        st.sampled_from([b"A", b"B", b"z", b"0", b"+"]).filter(lambda c: c != original)
    )
    tampered = ENCRYPTED[:index] + replacement + ENCRYPTED[index + 1 :]
    with pytest.raises((DecryptionError, ConfigError)):
        engine.decrypt(tampered, store_for("yaml"), IDENTITIES)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"e_unencrypted: plain", b"e_unencrypted: plainx"),  # a plaintext value: MAC catches it
        (b'lastmodified: "', b'lastmodified: "1'),  # metadata is the MAC's AAD
        (b"\na: ", b"\nz: "),  # a key is part of the value's AAD
    ],
)
def test_tampering_outside_the_ciphertext_is_caught(old: bytes, new: bytes) -> None:
    tampered = (b"\n" + ENCRYPTED).replace(old, new, 1)[1:]
    assert tampered != ENCRYPTED
    with pytest.raises((DecryptionError, ConfigError)) as caught:
        engine.decrypt(tampered, store_for("yaml"), IDENTITIES)
    assert b"secret" not in str(caught.value).encode()


def test_swapping_two_values_fails() -> None:
    values = re.findall(rb"ENC\[[^\]]+\]", ENCRYPTED)
    swapped = ENCRYPTED.replace(values[0], b"@@").replace(values[1], values[0])
    swapped = swapped.replace(b"@@", values[1])
    with pytest.raises(DecryptionError):
        engine.decrypt(swapped, store_for("yaml"), IDENTITIES)


comment_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
commented_leaves = st.one_of(leaves, comment_text.map(lambda t: Comment(" " + t)))


def _commented_branch(children: st.SearchStrategy[Value]) -> st.SearchStrategy[Branch]:
    item = st.one_of(
        st.tuples(keys_st, children),
        comment_text.map(lambda t: (Comment(" " + t), None)),
    )
    return st.lists(item, max_size=5).map(_dedupe)


def _dedupe(items: list[tuple[str | Comment, Value]]) -> Branch:
    seen: set[str] = set()
    kept = []
    for key, value in items:
        if isinstance(key, str):
            if key in seen:
                continue
            seen.add(key)
        kept.append((key, value))
    return Branch(tuple(kept))


commented_docs = _commented_branch(
    st.recursive(
        commented_leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(tuple), _commented_branch(children)
        ),
        max_leaves=10,
    )
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commented_docs, st.sampled_from([2, 4]))
def test_the_fast_yaml_parser_agrees_with_ruamel(doc: Branch, indent: int) -> None:
    text = yamlemit.emit((doc,), indent).decode("utf-8")
    fast = yamlfast.parse(text)
    events, spans = yamlfmt._convert(yamlfmt.load_events(text, "t"), text)
    slow = tuple(Composer(events, scan_comments(text, spans), "t").documents())
    if fast is not None:
        assert tuple(Composer(fast[0], scan_comments(text, fast[1]), "t").documents()) == slow
