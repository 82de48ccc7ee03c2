"""Plaintext documents that exercise the formats and go-yaml's scalar rules."""

from __future__ import annotations

YAML = b"""# top comment
apiVersion: v1
kind: Secret # inline
metadata:
  name: x
  labels:
    a: "true"
    b: yes
    c: 0777
    d: 1.10
    e: 2024-01-01
    f: '123'
    g: ""
    h: ~
    i: 1e3
    j: 0x1F
    k: -.inf
    l: 1_000
    m: 1234567.5
data:
  # about key
  key: value with spaces
  password_unencrypted: visible
  multi: |
    line1
    line2
  folded: >
    folded text
    here
  long: this is a very long string that exceeds the eighty column limit of the go yaml emitter
  list:
    - one
    - two # two inline
    - nested: map
      other: 1
    - [a, b]
    - {}
  empty_list: []
  emoji: "h\xc3\xa9llo \xf0\x9f\x98\x80"
  tab: "a\\tb"
  quote: "it's"
  colon: "a: b"
  hash: "a #b"
  lead: " x"
  anchors: &anc
    z: 1
  ref: *anc
  <<: *anc
  last: end
# foot comment
"""

YAML_MULTI = b"""a: 1
b: [x, y]
---
c: three
---
d: {e: f}
"""

JSON = b"""{
  "name": "x",
  "n": 7,
  "big": 12345678901234,
  "f": 3.5,
  "e": 1e21,
  "t": true,
  "nil": null,
  "html": "<a href=\\"x\\">&</a>",
  "uni": "h\xc3\xa9llo",
  "nested": {"list": [1, "two", {"three": 3}], "empty": {}, "none": []},
  "password_unencrypted": "visible"
}
"""

DOTENV = b"""# a comment
KEY=value
EMPTY=
MULTI=line1\\nline2
SPACED = x
password_unencrypted=visible
"""

INI = b"""; leading comment
global = 1

# section comment
[database]
user = admin
password = s3cr3t ; inline
# about host
host: db.example.com
quoted = "  spaced  "
empty =
password_unencrypted = visible

[other]
x=y
"""

BINARY = b"\x00\x01binary \xff\xfe data\n"

SAMPLES = {"yaml": YAML, "json": JSON, "dotenv": DOTENV, "ini": INI, "binary": BINARY}
SUFFIX = {"yaml": ".yaml", "json": ".json", "dotenv": ".env", "ini": ".ini", "binary": ".bin"}
