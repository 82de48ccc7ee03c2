"""Go's regexp syntax and semantics where Python's `re` differs, as users meet them.

Expected values are Go's (each also runs in test_regex_differential.py against the real Go).
"""

# ruff: noqa: E501, RUF001 - whole templates on a line; Greek letters are test data

from __future__ import annotations

import pytest

from secretsync import goregexp
from secretsync.api.sources import Rewrite, RewriteRegexp
from secretsync.errors import ConfigError, TemplateError
from secretsync.goregexp import regexp as goregexp_regexp
from secretsync.resolve import keys, stores
from secretsync.sops.rules import Rules
from secretsync.template import render_string
from tests.template.cluster_stores import cluster_store

GO_OUTPUTS: list[tuple[str, str]] = [
    # \z and $ are the very end of the text, never before a final newline
    (
        '{{ regexMatch "a$" "a\\n" }}|{{ regexMatch "a\\\\z" "a\\n" }}|{{ regexMatch "(?m)a$" "a\\n" }}',
        "false|false|true",
    ),
    # (?i) applies from where it stands to the end of its group
    (
        '{{ regexFindAll "a(?i)b" "ab aB Ab" -1 }}|{{ regexFindAll "(a(?i)b)c" "aBc aBC" -1 }}|{{ regexFindAll "(?i:a)b" "Ab AB" -1 }}',
        "[ab aB]|[aBc]|[Ab]",
    ),
    # \pL / \PL Unicode classes, \d \w \s \b ASCII only
    (
        '{{ regexFindAll "\\\\pL+" "héllo, wörld" -1 }}|{{ regexFindAll "\\\\PL+" "héllo, wörld" -1 }}|{{ regexFindAll "\\\\p{Greek}+" "abγδ" -1 }}',
        "[héllo wörld]|[, ]|[γδ]",
    ),
    (
        '{{ regexFindAll "\\\\w+" "héllo" -1 }}|{{ regexFindAll "\\\\d" "1٣" -1 }}|{{ regexReplaceAll "\\\\b" "é a" "|" }}',
        "[h llo]|[1]|é |a|",
    ),
    # POSIX classes and \Q...\E
    (
        '{{ regexFindAll "[[:alpha:]]+" "ab1é" -1 }}|{{ regexFindAll "[[:^alpha:]]+" "ab1é" -1 }}|{{ regexFind "\\\\Qa.b\\\\E" "xa.by aXb" }}',
        "[ab]|[1é]|a.b",
    ),
    # both spellings of named groups, and Expand
    (
        '{{ regexReplaceAll "(?P<first>\\\\w+) (?<last>\\\\w+)" "John Smith" "$last, $first" }}',
        "Smith, John",
    ),
    (
        '{{ regexReplaceAll "(a)" "aaa" "$1x" }}|{{ regexReplaceAll "(a)" "aaa" "${1}x" }}|{{ regexReplaceAll "(a)" "aaa" "$$1" }}|{{ regexReplaceAll "(a)" "a" "$01|$2|${1" }}',
        "|axaxax|$1$1$1|||${1",
    ),
    ('{{ regexReplaceAllLiteral "(a)" "aa" "$1" }}', "$1$1"),
    # Go's rules for empty matches
    (
        '{{ regexFindAll "a*" "baaac" -1 }}|{{ regexReplaceAll "a*" "baaac" "-" }}|{{ regexSplit "a*" "baaac" -1 }}',
        "[ aaa ]|-b-c-|[b c]",
    ),
    (
        '{{ regexReplaceAll "x*" "abxd" "-" }}|{{ regexSplit "" "abc" -1 }}|{{ regexSplit "" "" -1 }}|{{ regexSplit "," "" -1 }}',
        "-a-b-d-|[a b c]|[]|[]",
    ),
    (
        '{{ regexReplaceAll "" "é€" "-" }}|{{ regexFindAll "[0-9]+" "a1b22c333" 2 }}|{{ regexSplit "," "a,b,,c" 2 }}|{{ regexSplit "," "a,b" 0 }}',
        "-é-€-|[1 22]|[a b,,c]|[]",
    ),
    ('{{ regexQuoteMeta "1.2+[x]$" }}', "1\\.2\\+\\[x\\]\\$"),
]

GO_ERRORS: list[tuple[str, str]] = [
    (
        '{{ mustRegexMatch "(a)\\\\1" "aa" }}',
        "error calling mustRegexMatch: error parsing regexp: invalid escape sequence: `\\1`",
    ),
    (
        '{{ mustRegexMatch "(?=a)" "a" }}',
        "error parsing regexp: invalid or unsupported Perl syntax: `(?=`",
    ),
    (
        '{{ mustRegexMatch "(?<=a)b" "ab" }}',
        "error parsing regexp: invalid named capture: `(?<=a)b`",
    ),
    ('{{ mustRegexMatch "\\\\C" "a" }}', "error parsing regexp: invalid escape sequence: `\\C`"),
    (
        '{{ mustRegexMatch "(?P<é>a)" "a" }}',
        "error parsing regexp: invalid named capture: `(?P<é>`",
    ),
    ('{{ mustRegexMatch "\\\\Z" "a" }}', "error parsing regexp: invalid escape sequence: `\\Z`"),
    (
        '{{ mustRegexMatch "a**" "a" }}',
        "error parsing regexp: invalid nested repetition operator: `**`",
    ),
    ('{{ mustRegexMatch "a{1001}" "a" }}', "error parsing regexp: invalid repeat count: `{1001}`"),
    (
        '{{ mustRegexMatch "a\\\\" "a" }}',
        "error parsing regexp: trailing backslash at end of expression: ``",
    ),
    (
        '{{ regexFind "(" "x" }}',
        "error calling regexFind: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`",
    ),
]


@pytest.mark.parametrize(("template", "expected"), GO_OUTPUTS)
def test_behaves_as_go(template: str, expected: str) -> None:
    assert render_string("k", template, {}) == expected


@pytest.mark.parametrize(("template", "message"), GO_ERRORS)
def test_rejects_what_go_rejects_with_gos_message(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        render_string("k", template, {})
    assert message in str(info.value)


def test_regex_match_is_false_for_an_invalid_pattern_as_in_sprig() -> None:
    assert render_string("k", '{{ regexMatch "(?=a)" "a" }}', {}) == "false"


def test_a_bad_rewrite_regexp_names_its_field() -> None:
    rewrite = Rewrite(regexp=RewriteRegexp(source="(?!x)", target="$1"))
    with pytest.raises(ConfigError) as info:
        keys.rewrite_keys({"k": b"v"}, (rewrite,), "spec.dataFrom[1]", lambda *_: "")
    assert str(info.value) == (
        "spec.dataFrom[1].rewrite[0].regexp.source: "
        "error parsing regexp: invalid or unsupported Perl syntax: `(?!`"
    )


def test_namespace_regexes_are_gos_and_a_bad_one_names_the_store_and_field() -> None:
    store = cluster_store(
        [
            {"namespaceSelector": {"matchLabels": {"team": "a"}}},
            {"namespaceRegexes": ["^dev-\\z", "^team-(a|b)$", "(a"]},
        ]
    )
    assert stores.cluster_store_allows(store, "team-a", {}) is True
    assert stores.cluster_store_allows(store, "x", {"team": "a"}) is True  # before any regex
    with pytest.raises(ConfigError) as info:
        stores.cluster_store_allows(store, "team-a\n", {})  # $ is the very end, as in Go
    assert str(info.value) == (
        "ClusterSecretStore shared spec.conditions[1].namespaceRegexes[2]: "
        "error parsing regexp: missing closing ): `(a`"
    )


def test_sops_rules_use_gos_syntax() -> None:
    rules = Rules(encrypted_regex="^(data|string_data)\\z")
    assert rules.should_encrypt(["data"], [], False) is True
    assert rules.should_encrypt(["data\n"], [], False) is False
    with pytest.raises(ConfigError, match=r"encrypted_regex: error parsing regexp: invalid escape"):
        Rules(encrypted_regex="\\C")


def test_a_pattern_too_large_for_the_memory_bound_is_refused_like_go_refuses_large_ones() -> None:
    with pytest.raises(ConfigError, match=r"error parsing regexp: expression too large"):
        goregexp.compile("(\\pL|\\pN){1000}", field="x")


def test_replacements_cannot_grow_without_bound() -> None:
    with pytest.raises(TemplateError, match="result would exceed"):
        render_string("k", '{{ regexReplaceAll "" (repeat 10000 "a") (repeat 2000 "b") }}', {})


def test_compiled_patterns_are_cached_within_a_bound() -> None:
    info = goregexp_regexp.cached.cache_info()
    assert info.maxsize == goregexp_regexp.CACHE_SIZE
    assert goregexp.compile("^cached-(x)$") is goregexp.compile("^cached-(x)$")
    for i in range(goregexp_regexp.CACHE_SIZE + 10):
        goregexp.compile(f"evict-{i}")
    assert goregexp_regexp.cached.cache_info().currsize <= goregexp_regexp.CACHE_SIZE
