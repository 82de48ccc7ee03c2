"""secretsync.goregexp against Go's own regexp package (goregex/main.go, built with the local Go).

Every case runs through both and must agree on everything Go reports: the compile error (its
exact message), MatchString, FindString, FindAllString, FindAllStringSubmatch(Index),
ReplaceAllString (Go's Expand), ReplaceAllLiteralString, Split and SubexpNames. A hand-written
table covers the tricky corners; hypothesis adds patterns from a small grammar.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from secretsync import goregexp
from secretsync.errors import ConfigError

Case = tuple[str, str, str, int]  # pattern, text, replacement, n (FindAll and Split)

# ruff: noqa: RUF001 - Greek letters are test data (case folding, \p{Greek})
HAND_CASES: list[Case] = [
    # anchors: $ and \z are the very end, (?m) makes ^ $ per line; \A
    ("a$", "a\n", "", -1),
    ("a\\z", "a\n", "", -1),
    ("a\\z", "ba", "X", -1),
    ("(?m)a$", "a\na\n", "X", -1),
    ("(?m)^a", "a\na", "X", -1),
    ("^", "abc", "X", -1),
    ("$", "abc", "X", -1),
    ("(?m)$", "a\nb\n", "X", -1),
    ("\\Aa", "aa", "X", -1),
    ("^a|b", "aab", "X", -1),
    # flags and their placement
    ("(?i)abc", "xAbC", "", -1),
    ("a(?i)b", "aB AB", "", -1),
    ("(?i:a)b", "Ab AB", "", -1),
    ("(a(?i)b)c", "aBc aBC", "", -1),
    ("(?i)a(?-i)b", "Ab AB", "", -1),
    ("(?s).", "\n", "", -1),
    (".", "\n", "", -1),
    ("(?U)a+", "aaa", "", -1),
    ("(?U)a+?", "aaa", "", -1),
    ("(?i)k", "\u212a", "", -1),
    ("(?i)σ", "Σσς", "", -1),
    ("(?im)^x$", "X\nx", "", -1),
    # classes: Perl (ASCII), POSIX, Unicode
    ("\\d+", "a1٣2", "", -1),
    ("\\w+", "héllo wörld", "", -1),
    ("\\s", "a\u00a0b c\td", "", -1),
    ("\\bé", "é aé", "", -1),
    ("\\b", "ab cd", "|", -1),
    ("\\B", "ab cd", "|", -1),
    ("\\pL+", "héllo, wörld", "", -1),
    ("\\PL+", "héllo, wörld", "", -1),
    ("\\p{Greek}+", "abγδε", "", -1),
    ("\\p{^Greek}+", "abγδε", "", -1),
    ("\\pN", "a1²", "", -1),
    ("[\\p{Lu}]", "aBc", "", -1),
    ("[[:alpha:]]+", "ab1é", "", -1),
    ("[[:^alpha:]]+", "ab1é", "", -1),
    ("[[:word:][:space:]]+", "a_ b-", "", -1),
    ("[[:punct:]]", "a.b!", "", -1),
    ("[]a]+", "x]a]y", "", -1),
    ("[^]a]+", "x]a]y", "", -1),
    ("[a-]+", "a-b", "", -1),
    ("[\\d\\-z]+", "1-z", "", -1),
    ("[^\\n]+", "a\nb", "", -1),
    ("[^a]", "\n", "", -1),
    ("\\x41\\x{42}", "AB", "", -1),
    ("\\101", "A", "", -1),
    ("\\0", "\x00", "", -1),
    ("\\a\\f\\t\\v\\r", "\a\f\t\v\r", "", -1),
    # \Q...\E and escapes of punctuation
    ("\\Qa.b\\E", "xa.by", "", -1),
    ("\\Qa.b", "a.b", "", -1),
    ("\\Q\\E", "a", "-", -1),
    ("\\Q(\\E+", "((", "", -1),
    ("\\_", "_", "", -1),
    ("\\.\\*", ".*", "", -1),
    # named groups, both spellings, repeated names
    ("(?P<first>\\w+) (?P<last>\\w+)", "John Smith", "$last, $first", -1),
    ("(?<y>\\d{4})-(?<m>\\d\\d)", "2024-05", "${m}/${y}", -1),
    ("(?P<n>a)|(?P<n>b)", "ab", "<$n>", -1),
    ("(?P<n>a)?(?P<n>b)", "b", "<$n>", -1),
    ("(?P<x_1>a)", "a", "${x_1}", -1),
    # Expand: $1x is the group named 1x; braces, $$, malformed refs, numbers
    ("(a)", "aaa", "$1x", -1),
    ("(a)", "aaa", "${1}x", -1),
    ("(a)", "aaa", "$$1", -1),
    ("(a)", "aaa", "$", -1),
    ("(a)", "aaa", "${1", -1),
    ("(a)", "aaa", "${}", -1),
    ("(a)", "aaa", "$01", -1),
    ("(a)", "aaa", "$0-$1-$2", -1),
    ("(a)(b)?", "a", "[$2]", -1),
    ("(a)", "a", "$é", -1),
    ("(a)", "a", "${1}${1}$$$1", -1),
    ("a(x*)b", "-ab-axxb-", "${1}W", -1),
    ("a(x*)b", "-ab-axxb-", "$1W", -1),
    ("(\\w+)@(\\w+)", "me@host you@there", "$2.$1", -1),
    # empty matches in FindAll, ReplaceAll and Split
    ("x*", "abxd", "-", -1),
    ("a*", "baaac", "-", -1),
    ("a*?", "baaac", "-", -1),
    ("", "abc", "-", -1),
    ("", "", "-", -1),
    ("", "é€😀", "-", -1),
    ("b*", "é€😀b", "-", -1),
    ("a|", "bab", "-", -1),
    ("|a", "bab", "-", -1),
    ("\\b", "a b", "-", -1),
    ("\\B", "1é", "-", -1),
    ("\\B", "éé€", "-", -1),
    ("é\\B", "éé", "-", -1),
    ("x*", "", "-", -1),
    ("a", "", "-", -1),
    # n for FindAll and Split
    ("[0-9]+", "a1b22c333", "", 2),
    ("[0-9]+", "a1b22c333", "", 1),
    ("[0-9]+", "a1b22c333", "", 0),
    ("z+", "pizza", "", 1),
    (",", "a,b,,c", "", 2),
    (",", "a,b,,c", "", 3),
    ("", "abc", "", 2),
    ("a", "aaa", "", -1),
    (",", ",a,", "", -1),
    ("z*", "pizza", "", -1),
    # leftmost-first choice and submatches
    ("a|ab", "ab", "", -1),
    ("ab|a", "ab", "", -1),
    ("(a|ab)(c|bcd)(d*)", "abcd", "", -1),
    ("(a*)+", "b", "", -1),
    ("(a*)*", "aab", "", -1),
    ("(a+|b+)*c", "aabbc", "", -1),
    ("(a|b)*?b", "aab", "", -1),
    ("(?:(a)|b)+", "ab", "", -1),
    ("(a){2}", "aaa", "", -1),
    ("a{2,3}", "aaaaaaa", "", -1),
    ("a{,2}", "a{,2}", "", -1),
    ("a{2}?", "aaa", "", -1),
    ("(?:)", "ab", "-", -1),
    ("()", "ab", "[$1]", -1),
    # what Go refuses (and RE2 in C++ would accept, or refuses with another word)
    ("\\1", "", "", -1),
    ("(a)\\1", "aa", "", -1),
    ("(?=a)", "", "", -1),
    ("(?!a)", "", "", -1),
    ("(?<=a)b", "", "", -1),
    ("(?<!a)b", "", "", -1),
    ("\\C", "a", "", -1),
    ("a\\C", "a", "", -1),
    ("[\\C]", "a", "", -1),
    ("(?P<ñ>a)", "a", "", -1),
    ("(?P<a-b>a)", "a", "", -1),
    ("(?P<>a)", "a", "", -1),
    ("(?P<n", "a", "", -1),
    ("(?<n", "a", "", -1),
    ("(?P=n)", "a", "", -1),
    ("\\Z", "a", "", -1),
    ("\\z\\G", "a", "", -1),
    ("(?x)a", "a", "", -1),
    ("a**", "a", "", -1),
    ("a*+", "a", "", -1),
    ("a{2}{3}", "a", "", -1),
    ("a{1001}", "a", "", -1),
    ("(a{100}){100}", "a", "", -1),
    ("a{3,2}", "a", "", -1),
    ("*a", "a", "", -1),
    ("(a", "a", "", -1),
    ("a)", "a", "", -1),
    ("[a", "a", "", -1),
    ("[z-a]", "a", "", -1),
    ("[[:foo:]]", "a", "", -1),
    ("\\pX", "a", "", -1),
    ("\\p{Foo}", "a", "", -1),
    ("a\\", "a", "", -1),
    ("\\8", "a", "", -1),
    ("\\x{110000}", "a", "", -1),
    ("(?i", "a", "", -1),
    ("(?-)", "a", "", -1),
    ("[a-\\d]", "a", "", -1),
    ("x{2}{,3}", "xx{,3}", "", -1),
]


def run_go(binary: Path, cases: list[Case]) -> list[dict[str, Any]]:
    lines = "".join(
        json.dumps({"pattern": p, "text": t, "repl": r, "n": n}) + "\n" for p, t, r, n in cases
    )
    done = subprocess.run(
        [str(binary)], input=lines, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [_normalised(json.loads(line)) for line in done.stdout.splitlines()]


def _normalised(go: dict[str, Any]) -> dict[str, Any]:
    # Go's nil slices come as null; ours are empty lists (Split(n=0) is the one nil we keep).
    for key in ("findAll", "submatch", "submatchIndex", "subexpNames"):
        go[key] = go[key] or []
    if go["error"]:
        go["split"] = None
    return go


def ours(case: Case) -> dict[str, Any]:
    pattern, text, repl, n = case
    answer: dict[str, Any] = {
        "error": "",
        "match": False,
        "find": "",
        "findAll": [],
        "submatch": [],
        "submatchIndex": [],
        "replace": "",
        "replaceLiteral": "",
        "split": None,
        "subexpNames": [],
        "quoteMeta": goregexp.quote_meta(pattern),
    }
    try:
        regexp = goregexp.compile(pattern)
    except ConfigError as exc:
        return answer | {"error": str(exc)}
    return answer | {
        "match": regexp.match_string(text),
        "find": regexp.find_string(text),
        "findAll": regexp.find_all_string(text, n),
        "submatch": regexp.find_all_string_submatch(text, n),
        "submatchIndex": regexp.find_all_string_submatch_index(text, n),
        "replace": regexp.replace_all_string(text, repl),
        "replaceLiteral": regexp.replace_all_literal_string(text, repl),
        "split": regexp.split(text, n),
        "subexpNames": list(regexp.subexp_names),
    }


@pytest.fixture(scope="module")
def go_hand_answers(goregex_bin: Path) -> list[dict[str, Any]]:
    return run_go(goregex_bin, HAND_CASES)


def test_the_table_is_large_enough_to_mean_something() -> None:
    assert len(HAND_CASES) >= 100
    assert sum(1 for p, *_ in HAND_CASES if "\\C" in p or "\\1" in p or "(?=" in p) >= 4


@pytest.mark.parametrize("index", range(len(HAND_CASES)), ids=[repr(c[0]) for c in HAND_CASES])
def test_hand_written_case_matches_go(index: int, go_hand_answers: list[dict[str, Any]]) -> None:
    assert ours(HAND_CASES[index]) == go_hand_answers[index]


def test_the_go_side_rejects_what_go_rejects(go_hand_answers: list[dict[str, Any]]) -> None:
    """A guard on the harness itself: a broken Go side would make every comparison vacuous."""
    answers = dict(zip(HAND_CASES, go_hand_answers, strict=True))
    assert answers["(a)\\1", "aa", "", -1]["error"] == (
        "error parsing regexp: invalid escape sequence: `\\1`"
    )
    assert answers["a$", "a\n", "", -1]["match"] is False
    assert answers["(a)", "aaa", "$1x", -1]["replace"] == ""  # $1x names a group called 1x


# --- generated patterns -----------------------------------------------------------------------

_ATOMS = st.sampled_from(
    [
        "a", "b", "ab", "A", ".", "é", "σ", "\\.", "-", " ",
        "\\d", "\\w", "\\s", "\\W", "\\S", "\\b", "\\B", "^", "$", "\\A", "\\z",
        "[ab]", "[^a]", "[a-c]", "[[:alpha:]]", "[[:^digit:]]", "[^\\n]", "[]a]",
        "\\pL", "\\PL", "\\p{Greek}", "\\Qa.\\E", "(?i)", "(?s)", "(?m)", "(?U)", "",
    ]
)  # fmt: skip
_BAD = st.sampled_from(["(", ")", "*", "\\C", "\\1", "(?=a)", "[", "\\Z", "a{1001}", "**"])
_QUANTIFIERS = st.sampled_from(
    ["*", "+", "?", "*?", "+?", "??", "{2}", "{0,2}", "{1,}", "{2,3}?", "{,2}"]
)


def _grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, children).map("".join),
        st.tuples(children, children).map("|".join),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"(?:{c})"),
        children.map(lambda c: f"(?i:{c})"),
        st.tuples(st.sampled_from(["n1", "n2"]), children).map(lambda t: f"(?P<{t[0]}>{t[1]})"),
        st.tuples(children, _QUANTIFIERS).map(lambda t: f"(?:{t[0]}){t[1]}"),
        st.tuples(st.sampled_from(["a", "b", "."]), _QUANTIFIERS).map("".join),
    )


_PATTERNS = st.one_of(st.recursive(_ATOMS, _grow, max_leaves=8), st.tuples(
    st.recursive(_ATOMS, _grow, max_leaves=3), _BAD).map("".join))  # fmt: skip
_TEXTS = st.text(alphabet="abAB1 \n.é€Σσς_-", max_size=12)
_REPLACEMENTS = st.lists(
    st.sampled_from(["$1", "${1}", "$0", "$n1", "${n2}", "$1x", "$$", "$", "${", "x", "$2", "$01"]),
    max_size=3,
).map("".join)
_CASES = st.tuples(_PATTERNS, _TEXTS, _REPLACEMENTS, st.sampled_from([-1, -1, -1, 0, 1, 2]))


# No shrinking: the assertion names the failing case, and shrinking a batch takes minutes.
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
)
@given(cases=st.lists(_CASES, min_size=25, max_size=25))
def test_generated_patterns_match_go(goregex_bin: Path, cases: list[Case]) -> None:
    for case, go in zip(cases, run_go(goregex_bin, cases), strict=True):
        assert ours(case) == go, case
