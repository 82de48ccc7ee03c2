"""What the fuzzer found, pinned as behaviour: each bad input gets a typed error naming the field
(the raw inputs themselves are replayed by test_fuzz.py from regressions/)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from secretsync.api.generators import parse_generator
from secretsync.api.objects import parse_external_secret
from secretsync.errors import ConfigError, DecryptionError, TemplateError
from secretsync.providers import gjson
from secretsync.sops import agepq, cipher, engine, inifmt, jsonfmt, keys
from secretsync.sops.formats import store_for
from secretsync.sops.metadata import from_plain, unflatten
from secretsync.template import render

pytestmark = pytest.mark.unit

SPEC = {"secretStoreRef": {"name": "s"}, "data": [{"secretKey": "a", "remoteRef": {"key": "k"}}]}


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ("x", "metadata"),
        ({"name": "a", "generation": "abc"}, "metadata.generation"),
        ({"name": "a", "generation": 1e400}, "metadata.generation"),
        ({"name": "a", "labels": [1]}, "metadata.labels"),
        ({"name": "a", "annotations": "ab"}, "metadata.annotations"),
    ],
)
def test_malformed_metadata_is_a_config_error_naming_the_field(metadata: Any, field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_external_secret({"metadata": metadata, "spec": SPEC})
    assert caught.value.field == field


def test_a_generator_whose_metadata_is_not_an_object_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^metadata: must be an object$"):
        parse_generator({"kind": "Password", "metadata": [1], "spec": {}})


@pytest.mark.parametrize("interval", ["9999999999999999999h", "9" * 400 + "h", "2562048h"])
def test_a_duration_longer_than_go_allows_is_a_config_error(interval: str) -> None:
    raw = {"metadata": {"name": "a"}, "spec": {**SPEC, "refreshInterval": interval}}
    with pytest.raises(ConfigError, match="longer than a Go duration") as caught:
        parse_external_secret(raw)
    assert caught.value.field == "spec.refreshInterval"


def test_the_longest_go_duration_still_parses() -> None:
    raw = {"metadata": {"name": "a"}, "spec": {**SPEC, "refreshInterval": "2562047h"}}
    assert parse_external_secret(raw).spec.refresh_interval is not None


def test_ini_keys_that_are_not_utf8_are_written_back_unchanged() -> None:
    data = b"[s\xff]\nk\xfe\xfd = v\xfc\nother = 1\n"
    # Aligned by bytes, as ini.v1 does: the key is three bytes long, `other` five.
    assert inifmt.emit(inifmt.load(data)) == b"[s\xff]\nk\xfe\xfd   = v\xfc\nother = 1\n"


@pytest.mark.parametrize(
    "text", ["not json", '{"a": NaN}', '{"a": Infinity}', "[" * 100_000, '{"a": {"b": 1', b"\xff"]
)
def test_gjson_text_that_is_not_json_is_a_typed_error_callers_still_catch(
    text: str | bytes,
) -> None:
    with pytest.raises(gjson.NotJSON) as caught:
        gjson.loads(text)
    assert isinstance(caught.value, ValueError)
    assert "not JSON" in str(caught.value)


@pytest.mark.parametrize("text", ["not json", "[" * 100_000, '{"a": {"b": 1', '{"a" 1}'])
def test_gjson_lookup_in_text_that_is_not_json_is_not_json(text: str) -> None:
    with pytest.raises(gjson.NotJSON):
        gjson.lookup(text, "a.b")


def test_an_infinite_shamir_threshold_is_a_config_error_naming_the_field() -> None:
    raw = {"age": [{"recipient": "age1x", "enc": "x"}], "shamir_threshold": float("inf")}
    with pytest.raises(ConfigError, match="must be an integer") as caught:
        from_plain(raw)
    assert caught.value.field == "sops.shamir_threshold"


def test_a_duration_given_as_too_large_an_integer_is_a_config_error() -> None:
    raw = {"metadata": {"name": "a"}, "spec": {**SPEC, "refreshInterval": 2**70}}
    with pytest.raises(ConfigError, match="longer than a Go duration") as caught:
        parse_external_secret(raw)
    assert caught.value.field == "spec.refreshInterval"


@pytest.mark.parametrize("iv_size", [1, 7, 129])
def test_an_iv_length_aes_gcm_cannot_take_is_a_decryption_error(iv_size: int) -> None:
    iv = base64.b64encode(b"\0" * iv_size).decode()
    text = f"ENC[AES256_GCM,data:Ig==,iv:{iv},tag:{'A' * 22}==,type:str]"
    with pytest.raises(DecryptionError, match=f"an IV of {iv_size} bytes"):
        cipher.ValueCipher(b"k" * 32).decrypt(text, "a:")


def test_a_flattened_metadata_key_with_non_ascii_digits_is_a_map_key() -> None:
    assert unflatten([("age__list_²__map_enc", "x"), ("age__list_0__map_enc", "y")]) == {
        "age": {"²": {"enc": "x"}, 0: {"enc": "y"}}
    }


def test_a_post_quantum_stanza_with_a_low_order_x25519_share_opens_for_no_one() -> None:
    identity = agepq.generate()
    assert identity.unwrap(bytes(agepq.ENC_SIZE), bytes(32)) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'a: 1\nb: "\\uD800"\n', "f.yaml: has an escape for a UTF-16 surrogate at line 2"),
        (b'a: ["\\U00110000"]\n', "f.yaml: is not valid YAML: an escape names no Unicode"),
    ],
)
def test_a_yaml_escape_that_is_no_character_is_a_config_error(data: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        engine.load_plain(data, store_for("yaml"), "f.yaml")


def test_a_lone_surrogate_escape_in_json_reads_as_u_fffd_as_in_go() -> None:
    (branch,) = jsonfmt.load(b'{"\\ud800": ["a\\udfffb", "\\ud83d\\ude00"]}')
    assert branch.items == (("\ufffd", ("a\ufffdb", "\U0001f600")),)
    assert gjson.loads('{"\\ud800": ["a\\udc80"]}') == {"\ufffd": ["a\ufffd"]}
    found = gjson.lookup('{"a": "\\ud800"}', "a")
    assert found is not None
    assert gjson.byte_value(found.value) == "\ufffd".encode()


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ('{{ fromJson "{\\"a\\": \\"\\\\ud800\\"}" | toJson }}', '{"a":"\ufffd"}'),
        ('{{ printf "%c" 55296 }}', "\ufffd"),
    ],
)
def test_a_surrogate_in_a_rendered_template_is_written_as_u_fffd(
    template: str, rendered: str
) -> None:
    assert render({"k": template}, {}) == {"k": rendered.encode()}


def test_raw_bytes_carried_as_surrogates_still_render_unchanged() -> None:
    assert render({"k": "{{ .raw }}"}, {"raw": b"\xff\x00\xfe"}) == {"k": b"\xff\x00\xfe"}


def test_an_age_enc_that_is_not_utf8_fails_to_open_with_a_pq_identity() -> None:
    identities = keys.parse_identities(str(agepq.generate()))
    with pytest.raises(DecryptionError):
        keys.unwrap("-> mlkem768x25519 \udcb8", identities)


@pytest.mark.parametrize(
    "literal", ['"\\u-199"', '"\\x-1"', '"\\u 199"', '"\\u1_99"', "'\\U+0000041'"]
)
def test_an_escape_whose_digits_int_would_take_but_go_does_not_is_invalid_syntax(
    literal: str,
) -> None:
    with pytest.raises(TemplateError, match="invalid syntax"):
        render({"k": "{{ " + literal + " }}"}, {})


def test_an_age_enc_holding_a_lone_surrogate_is_a_decryption_error() -> None:
    identities = keys.parse_identities(str(agepq.generate()))
    with pytest.raises(DecryptionError):
        keys.unwrap("-> mlkem768x25519 \ud800", identities)
