"""sprig's regex functions (regex.go) over Go's RE2 semantics (see gore2.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.gore2 import (
    RegexError,
    compile_re2,
    expand,
    find_all,
    quote_meta,
    replace_all,
    split,
)


def _compiled(pattern: str) -> Any:
    try:
        return compile_re2(pattern)
    except RegexError as exc:
        raise FuncError(str(exc)) from None


def regex_match(pattern: str, text: str) -> bool:
    return _compiled(pattern).search(text) is not None


def _lenient_match(pattern: str, text: str) -> bool:
    try:
        return regex_match(pattern, text)
    except FuncError:
        return False


def find_all_strings(pattern: str, text: str, limit: int) -> list[str]:
    matches = find_all(_compiled(pattern), text, limit)
    return [m.group(0) for m in matches]


def find_first(pattern: str, text: str) -> str:
    match = _compiled(pattern).search(text)
    return match.group(0) if match else ""


def replace(pattern: str, text: str, repl: str) -> str:
    return replace_all(_compiled(pattern), text, lambda m: expand(repl, m))


def replace_literal(pattern: str, text: str, repl: str) -> str:
    return replace_all(_compiled(pattern), text, lambda m: repl)


def regex_split(pattern: str, text: str, limit: int) -> list[str]:
    return split(_compiled(pattern), pattern, text, limit) or []


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
    "regexQuoteMeta": make(quote_meta, "s"),
}
