"""Write the committed seed corpus (run once: `python -m tests.fuzz.make_seeds`; the output is
committed, so fuzzing never depends on anything outside the repository).

Seeds: the real sops files of /work/shared/interop/sops-vectors (our own test data) with their
keys, our own samples encrypted with a fuzz-only key in every format, the sops metadata blocks as
JSON, templates from the template tests' idioms, gjson lookups, and the repository's examples/.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from secretsync.sops import engine, keys
from secretsync.sops.formats import extract_metadata, store_for
from tests.sops.samples import SAMPLES, YAML_MULTI

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
ROOT = HERE.parents[1]
VECTORS = Path("/work/shared/interop/sops-vectors")

INTEROP = {
    "sops_yaml": [
        "flux-kc-age-yaml/age.yaml",
        "flux-kc-global-3.10/secret.yaml",
        "humphd-yaml-3recips/secret.enc.yaml",
        "mtumilowicz-2recips-3.13.3/k8s-secret.enc.yaml",
        "sso-tampered-NEGATIVE/01-test-secrets.yaml",
    ],
    "sops_json": ["humphd-json-3recips/secret.enc.json"],
    "sops_dotenv": ["flux-kc-dotenv/env.env"],
    "sops_binary": ["flux-kc-binary/file.txt"],
}
INTEROP_KEYS = {
    "flux-kc.txt": "flux-kc-age-yaml/age.txt",
    "flux-kc-global.txt": "flux-kc-global-3.10/age-global.txt",
    "humphd.txt": "humphd-yaml-3recips/key.txt",
    "sso-tampered.txt": "sso-tampered-NEGATIVE/key-file.txt",
    "mtumilowicz-flux.txt": "mtumilowicz-2recips-3.13.3/flux.agekey",
    "mtumilowicz.txt": "mtumilowicz-2recips-3.13.3/mtumilowicz.agekey",
}

TEMPLATES = [
    "{{ .password }}",
    "{{ .password | b64enc }}",
    "{{ .json | fromJson | toYaml }}",
    "{{ $v := .json | fromJson }}{{ $v.user | toJson }}{{ index $v.n 1 }}",
    "{{ .yaml | fromYaml | toJson }}",
    '{{ printf "%s:%s" .username .password | b64enc }}',
    "{{ range $k, $v := . }}{{ $k | upper }}: {{ $v | quote }}\n{{ end }}",
    '{{- if eq .username "fuzz-admin" -}}yes{{- else if .empty -}}no{{ else }}{{ end -}}',
    '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .username }}{{ block "b" . }}x{{ end }}',
    "{{ with .missing }}{{ . }}{{ else }}{{ len $ }}{{ end }}",
    "{{ range $i, $e := list 1 2 3 }}{{ if gt $i 1 }}{{ break }}{{ end }}{{ $e }}{{ end }}",
    '{{ .username | replace "admin" "root" | sha256sum | trunc 8 }}',
    "{{/* comment */}}{{ `raw` }}{{ 'c' }}{{ 0x1F }}{{ -1.5e3 }}{{ nil | default 3 }}",
    '{{ regexReplaceAll "a(x*)b" .username "${1}W" }}{{ splitList "," "a,b" | join "-" }}',
    "user: {{ .username }}\npass: {{ .password | quote }}\n",
    '{{ dict "a" 1 "b" (list 2 3) | toPrettyJson }}{{ now | date "2006" | len }}',
    '{{ genPrivateKey "ecdsa" | len }}{{ uuidv4 | len }}{{ "x" | repeat 3 }}',
]

GJSON = [
    ("name", '{"name":"fuzz","n":1}'),
    ("a.b.c", '{"a":{"b":{"c":[1,2,{"d":null}]}}}'),
    ("list.1", '{"list":["x", {"y": true}, 3.5e2]}'),
    ("list.#", '{"list":[1,2,3]}'),
    ("list.#.name", '{"list":[{"name":"a"},{"name":"b"},{"other":1}]}'),
    ("a\\.b", '{"a.b": "dotted", "a": {"b": "nested"}}'),
    ("dup", '{"dup": 1, "dup": 2}'),
    ("x", "not json at all"),
    ("", '  [ {"k" : "v" } , "\\u00e9\\n" ]  '),
    ("0", "[[[[1]]]]"),
]

_GENERATORS = "generators.external-secrets.io/v1alpha1"
GENERATORS: list[dict[str, Any]] = [
    {"kind": "Password", "spec": {"length": 32, "digits": 4, "symbols": 2,
        "symbolCharacters": "-_", "noUpper": False, "allowRepeat": True,
        "secretKeys": ["a", "b"], "encoding": "base64"}},
    {"kind": "UUID", "spec": {}},
    {"kind": "SSHKey", "spec": {"keyType": "ecdsa", "keySize": 384, "comment": "c"}},
    {"kind": "ECRAuthorizationToken", "spec": {"region": "eu-west-1",
        "role": "arn:aws:iam::1:role/r", "scope": "public", "auth": {"secretRef": {
            "accessKeyIDSecretRef": {"name": "a", "key": "k"},
            "secretAccessKeySecretRef": {"name": "a", "key": "s"}}}}},
    {"kind": "VaultDynamicSecret", "spec": {"path": "database/creds/app", "method": "POST",
        "parameters": {"ttl": "1h"}, "resultType": "Data",
        "retrySettings": {"maxRetries": 3, "retryInterval": "5s"}, "allowEmptyResponse": False,
        "provider": {"server": "https://vault:8200", "path": "secret", "version": "v2",
            "auth": {"tokenSecretRef": {"name": "t", "key": "token"}}}}},
    {"kind": "ClusterGenerator", "spec": {"kind": "Password",
        "generator": {"passwordSpec": {"length": 12}}}},
    {"kind": "ClusterGenerator", "spec": {"kind": "SSHKey",
        "generator": {"sshKeySpec": {"keyType": "rsa", "keySize": 4096}}}},
]  # fmt: skip
"""examples/ has no generators: one of each kind the operator runs."""


def write(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def main() -> None:
    for folder in CORPUS.glob("*/"):  # SOURCES.md stays
        shutil.rmtree(folder)
    sops_seeds()
    metadata_seeds()
    for text in TEMPLATES:
        write("template", digest(text.encode()), text.encode())
    for path, doc in GJSON:
        data = f"{path}\n{doc}".encode()
        write("gjson", digest(data), data)
    for generator in GENERATORS:
        raw = {"apiVersion": _GENERATORS, "metadata": {"name": "g", "namespace": "n"}, **generator}
        data = json.dumps(raw, indent=1).encode()
        write("api", f"generator-{digest(data)}", data)
    yaml = YAML(typ="safe")
    for manifest in sorted((ROOT / "examples").rglob("*.yaml")):
        for doc in yaml.load_all(manifest.read_text()):
            if isinstance(doc, dict):
                data = json.dumps(doc, indent=1, default=str).encode()
                write("api", digest(data), data)


def sops_seeds() -> None:
    """The interop files and their keys, then our samples under a fuzz-only key."""
    (CORPUS / "keys").mkdir(parents=True)
    for name, source in INTEROP_KEYS.items():
        shutil.copyfile(VECTORS / source, CORPUS / "keys" / name)
    identity, recipient = keys.generate()
    (CORPUS / "keys" / "fuzz.txt").write_text(
        f"# A key for the fuzz seeds only; it protects nothing else.\n{identity}\n"
    )
    for target, sources in INTEROP.items():
        for source in sources:
            write(target, source.replace("/", "__"), (VECTORS / source).read_bytes())
    recipients = engine.Recipients(((recipient,),))
    for fmt, plain in {**SAMPLES, "yaml-multi": YAML_MULTI}.items():
        store_name = fmt.split("-")[0]
        store = store_for(store_name)
        write(f"sops_{store_name}", f"plain-{fmt}", plain)
        write(f"sops_{store_name}", f"ours-{fmt}", engine.encrypt(plain, store, recipients))
    pq_seeds()


def pq_seeds() -> None:
    """A post-quantum (age1pq1) recipient, so the fuzzer reaches our own stanza reader."""
    identity, recipient = keys.generate(post_quantum=True)
    (CORPUS / "keys" / "fuzz-pq.txt").write_text(
        f"# A post-quantum key for the fuzz seeds only; it protects nothing else.\n{identity}\n"
    )
    store = store_for("yaml")
    # One small document: the stanza alone is 1.5 KB, and every byte slows each input down.
    data = engine.encrypt(b"pq: post-quantum-secret\n", store, engine.Recipients(((recipient,),)))
    write("sops_yaml", "ours-pq-yaml", data)
    split = extract_metadata(store, store.load(data, "pq"))
    assert split is not None
    block = json.dumps(split[1], indent=1).encode()
    write("sops_metadata", f"pq-{digest(block)}", block)


def metadata_seeds() -> None:
    """The `sops` block of every encrypted seed, as JSON."""
    for fmt in ("yaml", "json", "dotenv", "ini", "binary"):
        store = store_for(fmt)
        for seed in sorted((CORPUS / f"sops_{fmt}").iterdir()):
            if seed.name.startswith("plain-"):
                continue
            split = extract_metadata(store, store.load(seed.read_bytes(), seed.name))
            if split is not None:
                block = json.dumps(split[1], indent=1, default=str).encode()
                write("sops_metadata", f"{fmt}-{digest(block)}", block)


if __name__ == "__main__":
    main()
