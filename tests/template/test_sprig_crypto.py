"""sprig's crypto functions: exact where Go's output is deterministic, structural otherwise."""

from __future__ import annotations

import pytest
from cryptography import x509

from secretsync.errors import TemplateError
from secretsync.template import render_string


def _render(template: str, **data: str) -> str:
    return render_string("key", template, data)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{ derivePassword 1 "long" "password" "user" "example.com" }}', "ZedaFaxcZaso9*"),
        ('{{ derivePassword 2 "maximum" "pw" "u" "site" }}', "w2.W)8^z^jXOpKNv@aZf"),
        ('{{ derivePassword 1 "pin" "pw" "u" "site" }}', "2977"),
        ('{{ derivePassword 1 "nope" "pw" "u" "site" }}', "cannot find password template nope"),
        # A ciphertext produced by Go's sprig.
        (
            '{{ decryptAES "secretkey" "MT5V+RvVs/htJk/5UWsSMKfp85xTvXodquQinxoZkUA=" }}',
            "plaintext",
        ),
        ('{{ decryptAES "secretkey" (encryptAES "secretkey" "round trip") }}', "round trip"),
        ('{{ encryptAES "k" "" }}', ""),
    ],
)
def test_deterministic_outputs_match_go(template: str, expected: str) -> None:
    assert _render(template) == expected


def test_generated_ca_signs_a_certificate_that_orders_into_a_chain() -> None:
    template = (
        '{{ $ca := genCA "my-ca" 30 }}'
        '{{ $c := genSignedCert "svc" (list "10.0.0.1") (list "svc.local") 30 $ca }}'
        "{{ $c.Cert }}{{ $ca.Cert }}"
    )
    bundle = _render(template)
    leaf_pem = _render('{{ .b | filterCertChain "leaf" }}', b=bundle)
    root_pem = _render('{{ .b | filterCertChain "root" }}', b=bundle)
    leaf = x509.load_pem_x509_certificate(leaf_pem.encode())
    root = x509.load_pem_x509_certificate(root_pem.encode())
    assert leaf.issuer == root.subject
    leaf.verify_directly_issued_by(root)
    assert _render("{{ .c | certSANs }}", c=leaf_pem) == "[svc.local 10.0.0.1]"


@pytest.mark.parametrize(
    ("kind", "header"),
    [("ecdsa", "EC PRIVATE KEY"), ("ed25519", "PRIVATE KEY")],
)
def test_gen_private_key_uses_sprigs_pem_types(kind: str, header: str) -> None:
    assert _render(f'{{{{ genPrivateKey "{kind}" }}}}').startswith(f"-----BEGIN {header}-----\n")
    assert _render('{{ genPrivateKey "rot13" }}') == "Unknown type rot13"


def test_self_signed_cert_with_given_key_keeps_the_key() -> None:
    key = _render('{{ genPrivateKey "ecdsa" }}')
    out = _render('{{ (genSelfSignedCertWithKey "x" nil nil 1 .k).Key }}', k=key)
    assert out == key
    with pytest.raises(TemplateError, match="parsing private key"):
        _render('{{ genCAWithKey "x" 1 "junk" }}')


def test_htpasswd_sha_matches_esos_vendored_sprig() -> None:
    # ESO's template_test.go: "htpasswd with sha1".
    data = {"username": "foo1", "password": "FZ4jR;l]ON;pHKi=_'zh79P"}
    out = _render('{{ htpasswd .username .password "sha" }}', **data)
    assert out == "foo1:{SHA}wtdJD6OIjUniEJkTlewnKzfFxA4="
    assert _render('{{ htpasswd "a:b" "pw" "sha" }}') == "invalid username: a:b"


@pytest.mark.parametrize("template", ['{{ bcrypt "pw" }}', '{{ htpasswd "user" "pw" "bcrypt" }}'])
def test_bcrypt_is_refused_with_a_clear_error(template: str) -> None:
    with pytest.raises(TemplateError, match="bcrypt hashing is not supported"):
        _render(template)
