"""Every user regexp runs in time linear in its input (RE2), through every entry point.

Each classic catastrophic pattern runs against 100,000 characters, matching and not matching,
in under a second of CPU. Python's backtracking `re` needs about 1 s for `^(a+)+$` on 24
characters and five times more for every two added, so the bound fails for any backtracking
engine. This is a correctness bound (linear or not), not a benchmark.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from secretsync import goregexp
from secretsync.api.sources import Find, FindName, Rewrite, RewriteRegexp
from secretsync.errors import TemplateError
from secretsync.providers import aws_values, sops_git
from secretsync.resolve import keys, stores
from secretsync.sops import config as sops_config
from secretsync.sops.rules import Rules
from secretsync.template import render_string
from tests.template.cluster_stores import cluster_store

SIZE = 100_000
CPU_BOUND_SECONDS = 1.0
CATASTROPHIC = ["^(a+)+$", "(a|aa)*b", "(x+x+)+y", "^(a|a?)+$", "(.*a){12}$", "^(\\w+\\s?)*$"]
TEXTS = {
    "a-then-mismatch": "a" * SIZE + "!",
    "all-a": "a" * SIZE,
    "all-x": "x" * SIZE,
}


MANY_MATCHES_BOUND_SECONDS = 5.0
"""100,000 matches are 100,000 searches and as many Python-level results: 0.5-0.6 s of CPU
quiet, 1.13 s once in CI on a loaded machine. A search that rescanned from the start at each
match would be 10^10 steps, hours; 5 s still tells the two apart."""


@contextmanager
def within_cpu_bound(bound: float = CPU_BOUND_SECONDS) -> Iterator[None]:
    started = time.process_time()
    yield
    used = time.process_time() - started
    assert used < bound, f"{used:.2f}s of CPU: not linear"


def _no_transform(template: str, key: str, where: str) -> str:
    raise AssertionError("no transform expected")


def _template(function: str) -> Callable[[str, str], object]:
    return lambda pattern, text: render_string(
        "k", "{{ " + function + " }}", {"p": pattern, "v": text, "r": "<$1>"}
    )


def _find_aws(pattern: str, text: str) -> object:
    return aws_values.matches(text, aws_values.name_matcher(pattern))


def _find_sops_git(pattern: str, text: str) -> object:
    query = Find(name=FindName(regexp=pattern))
    return sops_git._wanted(text, None, sops_git._name_pattern(query))


def _rewrite(pattern: str, text: str) -> object:
    rewrite = Rewrite(regexp=RewriteRegexp(source=pattern, target="${1}-$1x"))
    return keys.rewrite_keys({text: b"v"}, (rewrite,), "spec.dataFrom[0]", _no_transform)


def _namespace_regexes(pattern: str, text: str) -> object:
    store = cluster_store([{"namespaces": ["x"]}, {"namespaceRegexes": ["^team-", pattern]}])
    return stores.cluster_store_allows(store, text, {})


def _sops_rules(pattern: str, text: str) -> object:
    rules = Rules(unencrypted_comment_regex=pattern)
    return rules.should_encrypt([text, text], [[text]], False)


def _sops_creation_rule(pattern: str, text: str) -> object:
    config = sops_config.parse(
        f"creation_rules:\n  - path_regex: '{pattern}'\n    age: age1x\n".encode()
    )
    return sops_config.rule_for(config, text)


ENTRY_POINTS: dict[str, Callable[[str, str], object]] = {
    "regexMatch": _template("regexMatch .p .v"),
    "mustRegexMatch": _template("mustRegexMatch .p .v"),
    "regexFind": _template("regexFind .p .v | len"),
    "regexFindAll": _template("regexFindAll .p .v -1 | len"),
    "regexReplaceAll": _template("regexReplaceAll .p .v .r | len"),
    "regexReplaceAllLiteral": _template("regexReplaceAllLiteral .p .v .r | len"),
    "regexSplit": _template("regexSplit .p .v -1 | len"),
    "find.name.regexp (AWS)": _find_aws,
    "find.name.regexp (SOPS in Git)": _find_sops_git,
    "rewrite.regexp": _rewrite,
    "namespaceRegexes": _namespace_regexes,
    "sops comment rules": _sops_rules,
    "sops path_regex": _sops_creation_rule,
}


@pytest.mark.parametrize("pattern", CATASTROPHIC)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_catastrophic_pattern_is_linear(entry: str, pattern: str) -> None:
    run = ENTRY_POINTS[entry]
    for text in TEXTS.values():
        with within_cpu_bound():
            run(pattern, text)


def test_the_entry_points_really_match() -> None:
    """The bound above would pass vacuously if an entry point never ran the pattern."""
    long_a = TEXTS["all-a"]
    assert ENTRY_POINTS["regexMatch"]("^(a+)+$", long_a) == "true"
    assert ENTRY_POINTS["regexMatch"]("^(a+)+$", TEXTS["a-then-mismatch"]) == "false"
    # "<$1>": the greedy inner a+ takes every a, so $1 is the whole text.
    assert ENTRY_POINTS["regexReplaceAll"]("^(a+)+$", long_a) == str(SIZE + 2)
    assert ENTRY_POINTS["regexFindAll"]("(a|aa)*b", long_a) == "0"
    assert _find_aws("^(a+)+$", long_a) is True
    assert _find_sops_git("^(a+)+$", TEXTS["a-then-mismatch"]) is False
    assert _rewrite("^(a+)+$", long_a) == {long_a + "-": b"v"}  # $1x is a group named 1x
    assert _namespace_regexes("^(a+)+$", long_a) is True
    assert _namespace_regexes("^(a+)+$", TEXTS["a-then-mismatch"]) is False
    assert _sops_rules("^(a+)+$", long_a) is False  # the comment matches: left unencrypted
    assert _sops_creation_rule("^(a+)+$", long_a) is not None


def test_many_matches_stay_linear() -> None:
    """FindAll and ReplaceAll with a match at every character: one search per match."""
    regexp = goregexp.compile("a|(b)")
    with within_cpu_bound(MANY_MATCHES_BOUND_SECONDS):
        assert len(regexp.find_all_string("a" * SIZE, -1)) == SIZE
    with within_cpu_bound(MANY_MATCHES_BOUND_SECONDS):
        assert len(regexp.replace_all_string("a" * SIZE, "$1")) == 0
    with within_cpu_bound(MANY_MATCHES_BOUND_SECONDS):
        assert len(goregexp.compile("").split("é" * SIZE, -1)) == SIZE


def test_semver_constraints_are_linear() -> None:
    """sprig's semver regexps are ours, but the constraint is template input: its nested
    whitespace runs were quadratic on `re` (16,000 spaces took 5 s)."""
    for constraint in (">=1.2.3" + " " * SIZE + "x", ">=1.2.3" + " ," * SIZE + "!"):
        with within_cpu_bound(), contextlib.suppress(TemplateError):  # the second is improper
            render_string("k", "{{ semverCompare .c .v }}", {"c": constraint, "v": "1.2.3"})
    assert render_string("k", '{{ semverCompare ">= 1.2, < 2.0" "1.9.9" }}', {}) == "true"


def test_from_yaml_keys_are_linear() -> None:
    """fromYaml's key pattern is ours, but a line is secret data: its lazy key run and the
    whitespace before ':' overlap, which was quadratic on `re` (100,000 spaces: 15 s)."""
    for value in ("a" + " " * SIZE + "x", "a" + " " * SIZE + ":", "k: " + "a " * SIZE):
        with within_cpu_bound():
            render_string("k", "{{ fromYaml .v | len }}", {"v": value})
    assert render_string("k", "{{ (fromYaml .v).b }}", {"v": 'a: 1\n"b" : x y\n'}) == "x y"


def test_find_path_globs_are_linear() -> None:
    """find.path globs (SOPS in Git) become regexps over file names, both user input:
    `*a*a*...*b` on a long name was exponential on `re`."""
    glob = "*a" * 50 + "b"
    with within_cpu_bound():
        assert sops_git._wanted("a" * 4000, glob, None) is False
    assert sops_git._wanted("team/db.yaml", "**/*.yaml", None) is True
    assert sops_git._wanted("team/db.yaml.bak", "**/*.yaml", None) is False
