"""ESO's toYaml/fromYaml, table-driven.

Expected outputs were produced in Go with ESO's own definitions of the two functions over
sigs.k8s.io/yaml v1.6 (go-yaml v2 underneath), on the same templates and data.
"""

# ruff: noqa: E501 - table rows are whole templates; wrapping them would hide what is tested

from __future__ import annotations

import pytest

from secretsync.template import render_string

YAML_CASES: list[tuple[str, dict[str, str], str]] = [
    (
        "{{ .j | fromJson | toYaml }}",
        {"j": '{"b": [1, "two", null], "a": {"c": true}}'},
        "a:\n  c: true\nb:\n- 1\n- two\n- null",
    ),
    (
        "{{ .j | fromJson | toYaml }}",
        {
            "j": '{"s": "true", "e": "", "n": "1.5", "m": "line1\\nline2", "y": "yes", "o": "off", "t": "~", "nl": "null"}'
        },
        'e: ""\nm: |-\n  line1\n  line2\n"n": "1.5"\nnl: "null"\no: "off"\ns: "true"\nt: "~"\n"y": "yes"',
    ),
    (
        "{{ .j | fromJson | toYaml }}",
        {
            "j": '{"x": 1.5, "big": 12345678, "huge": 1e21, "small": 0.000001, "neg": -3, "colon": "a: b", "hash": "a #b", "lead": " x", "dash": "-x", "dash2": "- x", "q": "it\'s", "dq": "say \\"hi\\""}'
        },
        "big: 12345678\ncolon: 'a: b'\ndash: -x\ndash2: '- x'\ndq: say \"hi\"\nhash: 'a #b'\nhuge: 1e+21\nlead: ' x'\nneg: -3\nq: it's\nsmall: 1e-06\nx: 1.5",
    ),
    (
        "{{ .j | fromJson | toYaml }}",
        {
            "j": '{"pem": "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n", "trail": "a\\n\\n", "tabs": "a\\tb", "spaces": "a \\nb", "lst": [[1, 2], {"k": "v", "k2": ["x"]}, [], {}], "empty": [], "emap": {}}'
        },
        'emap: {}\nempty: []\nlst:\n- - 1\n  - 2\n- k: v\n  k2:\n  - x\n- []\n- {}\npem: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\nspaces: "a \\nb"\ntabs: "a\\tb"\ntrail: |+\n  a\n',
    ),
    (
        "{{ .j | fromJson | toYaml }}",
        {
            "j": '{"star": "*x", "amp": "&x", "bang": "!x", "pct": "%x", "at": "@x", "tick": "`x", "brace": "{x", "brack": "[x", "comma": "a,b", "q": "?x", "colon2": ":x", "pipe": "|x", "gt": ">x", "num": "0x1F", "oct": "0777", "float": "1e3", "dot": ".5", "inf": ".inf", "unicode": "héllo", "trailsp": "x ", "endcolon": "x:", "cr": "a\\rb"}'
        },
        "amp: '&x'\nat: '@x'\nbang: '!x'\nbrace: '{x'\nbrack: '[x'\ncolon2: :x\ncomma: a,b\ncr: \"a\\rb\"\ndot: \".5\"\nendcolon: 'x:'\nfloat: \"1e3\"\ngt: '>x'\ninf: \".inf\"\nnum: \"0x1F\"\noct: \"0777\"\npct: '%x'\npipe: '|x'\nq: ?x\nstar: '*x'\ntick: '`x'\ntrailsp: 'x '\nunicode: héllo",
    ),
    (
        "{{ .y | fromYaml | toJson }}",
        {
            "y": "a: 1\nb:\n  c: [1, 2, x]\n  d: {e: f}\nlist:\n- x\n- k: v\n  k2: w\ntext: |\n  hello\n  world\nfolded: >\n  a\n  b\nflag: yes\nq: 'it''s'\ndq: \"x\\ty\"\ny: 1\nn: null\nt: ~\nf: 1.5\nh: 0x10\no: 0o17\nbig: 12345678901234567890\n"
        },
        '{"a":1,"b":{"c":[1,2,"x"],"d":{"e":"f"}},"big":12345678901234567000,"dq":"x\\ty","f":1.5,"false":null,"flag":true,"folded":"a b\\n","h":16,"list":["x",{"k":"v","k2":"w"}],"o":15,"q":"it\'s","t":null,"text":"hello\\nworld\\n","true":1}',
    ),
    (
        "{{ .y | fromYaml }}",
        {"y": "a: [1, 2"},
        "map[Error:error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']']",
    ),
    (
        "{{ .y | fromYaml }}",
        {"y": "- a\n- b"},
        "map[Error:error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}]",
    ),
    (
        "{{ .y | fromYaml | toJson }}",
        {"y": "# comment\nkey: value # trailing\nurl: http://x.io/#frag\n---\n"},
        '{"key":"value","url":"http://x.io/#frag"}',
    ),
    (
        "{{ .y | fromYaml | toJson }}",
        {"y": "a:\n  - 1\n  - 2\nb:\n    deep:\n        x: 1\n"},
        '{"a":[1,2],"b":{"deep":{"x":1}}}',
    ),
    ("{{ .y | fromYaml }}", {"y": ""}, "map[]"),
    (
        "{{ .y | fromYaml | toJson }}\n",
        {"y": "key: |-\n  keep\n\n  para\nk2: |+\n  x\n\nk3: end"},
        '{"k2":"x\\n\\n","k3":"end","key":"keep\\n\\npara"}\n',
    ),
]


@pytest.mark.parametrize(("template", "data", "expected"), YAML_CASES)
def test_yaml_functions_match_go(template: str, data: dict[str, str], expected: str) -> None:
    assert render_string("key", template, data) == expected
