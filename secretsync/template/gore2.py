"""Go regexp (RE2 syntax) on top of Python's re.

The translation covers where the two disagree in patterns people write: `$` and `\\z` anchor at
the very end in RE2, `\\d\\w\\s\\b` are ASCII-only, `(?<name>)` groups, POSIX classes such as
`[[:alpha:]]` and `\\Q...\\E` quoting. Go's rules for empty matches in FindAll/ReplaceAll/Split
differ from Python's, so those loops are written out as in Go's regexp.go.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_QUOTE_META = set("\\.+*?()|[]{}^$")


class RegexError(ValueError):
    """A pattern Go's regexp.Compile would reject (or that we cannot translate)."""


def quote_meta(text: str) -> str:
    return "".join("\\" + ch if ch in _QUOTE_META else ch for ch in text)


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, in_class = 0, False
    multiline = bool(re.match(r"\(\?[a-zA-Z]*m", pattern))
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            text, i = _escape(pattern, i, in_class)
        elif in_class:
            text, i, in_class = _class_char(pattern, i)
        else:
            text, i, in_class = _outside_class(pattern, i, multiline)
        out.append(text)
    return "".join(out)


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    nxt = pattern[i + 1]
    if nxt == "Q":
        end = pattern.find("\\E", i + 2)
        literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
        return re.escape(literal), len(pattern) if end < 0 else end + 2
    if nxt in "pP":
        raise RegexError("Unicode classes (\\p) are not supported")
    return ("\\Z" if nxt == "z" and not in_class else "\\" + nxt), i + 2


def _class_char(pattern: str, i: int) -> tuple[str, int, bool]:
    """One item inside [...]: POSIX classes expand; a nested '[' is literal in RE2."""
    posix = re.match(r"\[:(\^?)([a-z]+):\]", pattern[i:])
    if posix and posix.group(2) in _POSIX and not posix.group(1):
        return _POSIX[posix.group(2)], i + posix.end(), True
    ch = pattern[i]
    if ch == "[":
        return "\\[", i + 1, True
    return ch, i + 1, ch != "]"


def _outside_class(pattern: str, i: int, multiline: bool) -> tuple[str, int, bool]:
    ch = pattern[i]
    if ch == "[":
        # A ']' right after '[' or '[^' is a literal member, as in RE2.
        for opener in ("[^]", "[]"):
            if pattern.startswith(opener, i):
                return opener[:-1] + "\\]", i + len(opener), True
        return ch, i + 1, True
    if ch == "$" and not multiline:
        return "\\Z", i + 1, False  # RE2's $ is the very end, never before a final newline
    if pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
        return "(?P<", i + 3, False
    return ch, i + 1, False


@lru_cache(maxsize=512)
def compile_re2(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(_translate(pattern), re.ASCII)
    except (re.error, RecursionError, OverflowError) as exc:
        raise RegexError(f"error parsing regexp: {exc}: `{pattern}`") from None


def find_all(regex: re.Pattern[str], text: str, limit: int) -> list[re.Match[str]]:
    """Go's allMatches: an empty match right after the previous match is skipped."""
    if limit < 0:
        limit = len(text) + 1
    out: list[re.Match[str]] = []
    pos, prev_end = 0, -1
    while len(out) < limit and pos <= len(text):
        match = regex.search(text, pos)
        if match is None:
            break
        accept = True
        if match.end() == pos:
            accept = match.start() != prev_end
            pos += 1
        else:
            pos = match.end()
        prev_end = match.end()
        if accept:
            out.append(match)
    return out


def replace_all(regex: re.Pattern[str], text: str, repl: Callable[[re.Match[str]], str]) -> str:
    """Go's replaceAll: no replacement for an empty match right after another match."""
    out: list[str] = []
    last_end, pos = 0, 0
    while pos <= len(text):
        match = regex.search(text, pos)
        if match is None:
            break
        out.append(text[last_end : match.start()])
        if match.end() > last_end or match.start() == 0:
            out.append(repl(match))
        last_end = match.end()
        pos = pos + 1 if pos + 1 > match.end() else match.end()
    out.append(text[last_end:])
    return "".join(out)


_TEMPLATE_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+)|(\$))", re.ASCII)


def expand(template: str, match: re.Match[str]) -> str:
    """Regexp.Expand: $1, ${1}, $name, ${name}; $$ is a dollar; unknown names are empty."""

    def value(var: re.Match[str]) -> str:
        if var.group(3):
            return "$"
        name = var.group(1) or var.group(2)
        try:
            group = match.group(int(name)) if name.isdigit() else match.group(name)
        except IndexError:
            return ""
        return group or ""

    return _TEMPLATE_VAR.sub(value, template)


def split(regex: re.Pattern[str], pattern: str, text: str, limit: int) -> list[str] | None:
    if limit == 0:
        return None
    if pattern and not text:
        return [""]
    parts: list[str] = []
    begin = end = 0
    for match in find_all(regex, text, limit):
        if limit > 0 and len(parts) == limit - 1:
            break
        end = match.start()
        if match.end() != 0:
            parts.append(text[begin:end])
        begin = match.end()
    if end != len(text):
        parts.append(text[begin:])
    return parts
