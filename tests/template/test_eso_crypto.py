"""ESO's PEM, PKCS#12, JWK and RSA helpers, on a chain built fresh for the test."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from secretsync.errors import TemplateError
from secretsync.template import render_string

PEM = serialization.Encoding.PEM


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(cn, key, issuer_cert, issuer_key, *, ca, sans=None):  # type: ignore[no-untyped-def]
    now = datetime.datetime.now(datetime.UTC)
    issuer = issuer_cert.subject if issuer_cert is not None else _name(cn)
    signer = issuer_key if issuer_key is not None else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def chain() -> dict[str, str]:
    root_key = ec.generate_private_key(ec.SECP256R1())
    mid_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = rsa.generate_private_key(65537, 2048)
    root = _issue("root", root_key, None, None, ca=True)
    mid = _issue("intermediate", mid_key, root, root_key, ca=True)
    sans = [
        x509.DNSName("app.example.com"),
        x509.RFC822Name("ops@example.com"),
        x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
        x509.UniformResourceIdentifier("spiffe://example/app"),
    ]
    leaf = _issue("leaf", leaf_key, mid, mid_key, ca=False, sans=sans)
    key_pem = leaf_key.private_bytes(
        PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return {
        "root": root.public_bytes(PEM).decode(),
        "mid": mid.public_bytes(PEM).decode(),
        "leaf": leaf.public_bytes(PEM).decode(),
        "key": key_pem.decode(),
        "pkcs8": leaf_key.private_bytes(
            PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "public": leaf_key.public_key()
        .public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    }


def _render(template: str, **data: str) -> str:
    return render_string("key", template, data)


def test_filter_cert_chain_picks_each_role_from_a_shuffled_bundle(chain: dict[str, str]) -> None:
    bundle = chain["root"] + chain["leaf"] + chain["mid"]
    assert _render('{{ .b | filterCertChain "leaf" }}', b=bundle) == chain["leaf"]
    assert _render('{{ .b | filterCertChain "intermediate" }}', b=bundle) == chain["mid"]
    assert _render('{{ .b | filterCertChain "root" }}', b=bundle) == chain["root"]


def test_filter_pem_keeps_only_the_named_type(chain: dict[str, str]) -> None:
    bundle = "junk before\n" + chain["key"] + chain["leaf"] + chain["mid"]
    assert _render('{{ .b | filterPEM "CERTIFICATE" }}', b=bundle) == chain["leaf"] + chain["mid"]
    assert _render('{{ .b | filterPEM "RSA PRIVATE KEY" }}', b=bundle) == chain["key"]
    assert _render('{{ .b | filterPEM "EC PRIVATE KEY" }}', b=bundle) == ""
    with pytest.raises(TemplateError, match="error filtering pem: found junk"):
        _render('{{ .b | filterPEM "CERTIFICATE" }}', b="no pem here")


def test_cert_sans_lists_dns_ip_email_uri_in_go_order(chain: dict[str, str]) -> None:
    out = _render("{{ range .c | certSANs }}{{ . }};{{ end }}", c=chain["leaf"])
    assert out == "app.example.com;10.0.0.1;ops@example.com;spiffe://example/app;"


def test_full_pem_to_pkcs12_round_trips_through_pkcs12_helpers(chain: dict[str, str]) -> None:
    cert = chain["leaf"] + chain["mid"] + chain["root"]
    archive = _render("{{ fullPemToPkcs12 .cert .key }}", cert=cert, key=chain["key"])
    _, leaf, cas = pkcs12.load_key_and_certificates(base64.b64decode(archive), None)
    assert leaf is not None and leaf.public_bytes(PEM).decode() == chain["leaf"]
    assert [c.public_bytes(PEM).decode() for c in cas] == [chain["mid"], chain["root"]]
    ordered = _render("{{ .p | b64dec | pkcs12cert }}", p=archive)
    assert ordered == chain["leaf"] + chain["mid"] + chain["root"]
    assert _render("{{ .p | b64dec | pkcs12key }}", p=archive) == chain["pkcs8"]


def test_pem_to_pkcs12_with_password(chain: dict[str, str]) -> None:
    archive = _render(
        '{{ pemToPkcs12Pass .cert .key "changeit" }}', cert=chain["leaf"], key=chain["key"]
    )
    _, leaf, cas = pkcs12.load_key_and_certificates(base64.b64decode(archive), b"changeit")
    assert leaf is not None and cas == []
    assert _render('{{ .p | b64dec | pkcs12certPass "changeit" }}', p=archive) == chain["leaf"]
    with pytest.raises(TemplateError, match="unable to decode pkcs12 with password"):
        _render('{{ .p | b64dec | pkcs12keyPass "wrong" }}', p=archive)


def test_jwk_helpers_export_pem(chain: dict[str, str]) -> None:
    key = serialization.load_pem_private_key(chain["pkcs8"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()

    def b64(n: int) -> str:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    jwk = {"kty": "RSA", "n": b64(numbers.public_numbers.n), "e": b64(numbers.public_numbers.e)}
    assert _render("{{ .j | jwkPublicKeyPem }}", j=json.dumps(jwk)) == chain["public"]
    jwk.update(d=b64(numbers.d), p=b64(numbers.p), q=b64(numbers.q))
    assert _render("{{ .j | jwkPrivateKeyPem }}", j=json.dumps(jwk)) == chain["pkcs8"]


@pytest.mark.parametrize(("name", "algorithm"), [("SHA1", hashes.SHA1), ("SHA256", hashes.SHA256)])
def test_rsa_decrypt_oaep(chain: dict[str, str], name: str, algorithm: type) -> None:
    public = serialization.load_pem_public_key(chain["public"].encode())
    assert isinstance(public, rsa.RSAPublicKey)
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm()), algorithm=algorithm(), label=None)
    blob = base64.b64encode(public.encrypt(b"s3cr3t", oaep)).decode()
    template = '{{ rsaDecrypt "RSA-OAEP" "' + name + '" (.blob | b64dec) .key }}'
    assert _render(template, blob=blob, key=chain["key"]) == "s3cr3t"
    assert _render('{{ rsaDecrypt "None" "SHA1" "plain" .key }}', key=chain["key"]) == "plain"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{"b": [1, "two", null], "a": {"c": true}}', "a:\n  c: true\nb:\n- 1\n- two\n- null"),
        # go-yaml v2 reads a plain n or y as a YAML 1.1 boolean, so such keys get quoted.
        (
            '{"s": "true", "e": "", "n": "1.5", "m": "line1\\nline2"}',
            'e: ""\nm: |-\n  line1\n  line2\n"n": "1.5"\ns: "true"',
        ),
        ('{"x": 1.5, "big": 12345678, "colon": "a: b"}', "big: 12345678\ncolon: 'a: b'\nx: 1.5"),
    ],
)
def test_to_yaml_matches_sigs_k8s_yaml(source: str, expected: str) -> None:
    assert _render("{{ .j | fromJson | toYaml }}", j=source) == expected


def test_from_yaml_reads_block_yaml_and_reports_errors_in_the_map() -> None:
    doc = "a: 1\nlist:\n- x\n- k: z\ntext: |\n  hello\n  world\nflag: yes\nq: 'it''s'\ny: 1\n"
    out = _render("{{ .y | fromYaml | toJson }}", y=doc)
    assert json.loads(out) == {
        "a": 1.0,
        "list": ["x", {"k": "z"}],
        "text": "hello\nworld\n",
        "flag": True,
        "q": "it's",
        "true": 1.0,  # sigs.k8s.io/yaml: the key y is the boolean true, then the string "true"
    }
    assert "Error" in _render("{{ .y | fromYaml }}", y="a: [1, 2")


FIXTURES = Path(__file__).parent / "fixtures"


def test_pkcs12_helpers_read_a_legacy_rc2_archive() -> None:
    # Made with `openssl pkcs12 -export -legacy` (RC2-40 certificates, 3DES key), the format
    # older Java and Windows tooling still produce; ESO's own fixture is the same kind.
    archive = base64.b64encode((FIXTURES / "legacy-rc2.p12").read_bytes()).decode()
    cert = (FIXTURES / "legacy-cert.pem").read_text()
    key = (FIXTURES / "legacy-key.pem").read_text()
    assert _render('{{ .p | b64dec | pkcs12certPass "123456" }}', p=archive) == cert
    assert _render('{{ .p | b64dec | pkcs12keyPass "123456" }}', p=archive) == key
    with pytest.raises(TemplateError, match="unable to decode pkcs12"):
        _render("{{ .p | b64dec | pkcs12key }}", p=archive)
