"""sprig's regex functions (regex.go) on Go's regexp semantics, in linear time (goregexp)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from secretsync import goregexp
from secretsync.errors import ConfigError
from secretsync.template.callables import MAX_RESULT_SIZE, FuncError, GoFunc, make
from secretsync.template.quoting import go_quote


def _compiled(pattern: str) -> goregexp.Regexp:
    try:
        return goregexp.compile(pattern)
    except ConfigError as exc:
        raise FuncError(str(exc)) from None


def _must_compile(pattern: str) -> goregexp.Regexp:
    """regexp.MustCompile, as the plain variants use: its panic names the pattern."""
    try:
        return goregexp.compile(pattern)
    except ConfigError as exc:
        raise FuncError(f"regexp: Compile({_go_pattern_quote(pattern)}): {exc}") from None


def _go_pattern_quote(pattern: str) -> str:
    """regexp's quote: backquoted when strconv.CanBackquote, else strconv.Quote."""
    printable = all(ch == "\t" or (ch >= " " and ch != "\x7f") for ch in pattern)
    if "`" not in pattern and "\ufeff" not in pattern and printable:
        return f"`{pattern}`"
    return go_quote(pattern)


def regex_match(pattern: str, text: str) -> bool:
    return _compiled(pattern).match_string(text)


def _lenient_match(pattern: str, text: str) -> bool:
    try:
        return regex_match(pattern, text)
    except FuncError:
        return False


Compiler = Callable[[str], goregexp.Regexp]


def find_all_strings(compiled: Compiler, pattern: str, text: str, limit: int) -> list[str]:
    return compiled(pattern).find_all_string(text, limit)


def find_first(compiled: Compiler, pattern: str, text: str) -> str:
    return compiled(pattern).find_string(text)


def replace(compiled: Compiler, pattern: str, text: str, repl: str) -> str:
    try:
        return compiled(pattern).replace_all_string(text, repl, max_bytes=MAX_RESULT_SIZE)
    except goregexp.ResultTooLarge as exc:
        raise FuncError(str(exc)) from None


def replace_literal(compiled: Compiler, pattern: str, text: str, repl: str) -> str:
    try:
        regexp = compiled(pattern)
        return regexp.replace_all_literal_string(text, repl, max_bytes=MAX_RESULT_SIZE)
    except goregexp.ResultTooLarge as exc:
        raise FuncError(str(exc)) from None


def regex_split(compiled: Compiler, pattern: str, text: str, limit: int) -> list[str]:
    return compiled(pattern).split(text, limit) or []


def _both(name: str, fn: Callable[..., Any], signature: str) -> dict[str, GoFunc]:
    """sprig's plain variant compiles with MustCompile (a panic naming the pattern), its must-
    variant with Compile (the error alone); both fail the template the same way."""
    must = "must" + name[0].upper() + name[1:]
    return {
        name: make(functools.partial(fn, _must_compile), signature),
        must: make(functools.partial(fn, _compiled), signature),
    }


FUNCS: dict[str, GoFunc] = {
    "regexMatch": make(_lenient_match, "ss"),
    "mustRegexMatch": make(regex_match, "ss"),
    **_both("regexFindAll", find_all_strings, "ssi"),
    **_both("regexFind", find_first, "ss"),
    **_both("regexReplaceAll", replace, "sss"),
    **_both("regexReplaceAllLiteral", replace_literal, "sss"),
    **_both("regexSplit", regex_split, "ssi"),
    "regexQuoteMeta": make(goregexp.quote_meta, "s"),
}
