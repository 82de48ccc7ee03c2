"""sprig's regex functions (regex.go) on Go's regexp semantics, in linear time (goregexp)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secretsync import goregexp
from secretsync.errors import ConfigError
from secretsync.template.callables import MAX_RESULT_SIZE, FuncError, GoFunc, make


def _compiled(pattern: str) -> goregexp.Regexp:
    try:
        return goregexp.compile(pattern)
    except ConfigError as exc:
        raise FuncError(str(exc)) from None


def regex_match(pattern: str, text: str) -> bool:
    return _compiled(pattern).match_string(text)


def _lenient_match(pattern: str, text: str) -> bool:
    try:
        return regex_match(pattern, text)
    except FuncError:
        return False


def find_all_strings(pattern: str, text: str, limit: int) -> list[str]:
    return _compiled(pattern).find_all_string(text, limit)


def find_first(pattern: str, text: str) -> str:
    return _compiled(pattern).find_string(text)


def replace(pattern: str, text: str, repl: str) -> str:
    try:
        return _compiled(pattern).replace_all_string(text, repl, max_bytes=MAX_RESULT_SIZE)
    except goregexp.ResultTooLarge as exc:
        raise FuncError(str(exc)) from None


def replace_literal(pattern: str, text: str, repl: str) -> str:
    try:
        return _compiled(pattern).replace_all_literal_string(text, repl, max_bytes=MAX_RESULT_SIZE)
    except goregexp.ResultTooLarge as exc:
        raise FuncError(str(exc)) from None


def regex_split(pattern: str, text: str, limit: int) -> list[str]:
    return _compiled(pattern).split(text, limit) or []


def _both(name: str, fn: Callable[..., Any], signature: str) -> dict[str, GoFunc]:
    """sprig's plain variant panics where must- returns an error: the same failure here."""
    must = "must" + name[0].upper() + name[1:]
    return {name: make(fn, signature), must: make(fn, signature)}


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
