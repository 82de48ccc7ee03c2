"""Where Go's regexp parser and RE2's C++ parser disagree, and Go's error messages.

Both parse the same Perl-flavoured syntax with the same limits (repeat counts up to 1000, no
backreferences or lookarounds), so RE2 decides almost everything. This module adds the rules
only Go has: `\\C` (any byte) is an invalid escape, and capture names are ASCII word characters.
It also reads the capture names in order, because Go's Expand looks a name up among all groups
of that name (names may repeat in Go), which RE2's name-to-index map cannot tell us.

Known differences that remain: a pattern whose compiled program exceeds engine.MAX_MEM (Go
allows about 3 million instructions) is refused as "expression too large"; RE2 does not limit
nesting depth where Go refuses more than 1000 levels; and in text that is not valid UTF-8 (a
lone surrogate, in Python), Go's `.` matches each bad byte where RE2's does not.
"""

from __future__ import annotations

_GO_CODES = {
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class": "invalid character class",
    "invalid character class range": "invalid character class range",
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "unexpected )": "unexpected )",
    "missing (": "unexpected )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid UTF-8": "invalid UTF-8",
    "invalid named capture group": "invalid named capture",
}
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class GoSyntaxError(ValueError):
    """A pattern Go's regexp.Compile rejects, with Go's message."""

    def __init__(self, code: str, expr: str) -> None:
        self.code = code
        self.expr = expr
        super().__init__(f"error parsing regexp: {code}: `{expr}`")


def from_engine(message: str, pattern: str) -> GoSyntaxError:
    """RE2's "<code>: <expr>" as Go's "error parsing regexp: <code>: `<expr>`"."""
    if message.startswith("pattern too large"):
        return GoSyntaxError("expression too large", pattern)
    if message == "trailing \\":
        return GoSyntaxError(_GO_CODES[message], "")  # Go names no expression here either
    code, _, expr = message.partition(": ")
    return GoSyntaxError(_GO_CODES.get(code, code), expr)


def check(pattern: str) -> tuple[str, ...]:
    """Raise for what Go rejects and RE2 accepts; return Go's SubexpNames ("" for the whole
    match and for unnamed groups). A malformed pattern is left for RE2 to report."""
    try:
        pattern.encode()
    except UnicodeEncodeError:
        raise GoSyntaxError("invalid UTF-8", pattern) from None
    names = [""]
    i, end = 0, len(pattern)
    while i < end:
        char = pattern[i]
        if char == "\\":
            i = _escape(pattern, i)
        elif char == "[":
            i = _class_end(pattern, i)
        elif char == "(":
            i = _group(pattern, i, names)
        else:
            i += 1
    return tuple(names)


def _escape(pattern: str, i: int) -> int:
    nxt = pattern[i + 1 : i + 2]
    if nxt == "C":
        raise GoSyntaxError("invalid escape sequence", "\\C")
    if nxt == "Q":  # \Q...\E is literal text, to \E or the end
        close = pattern.find("\\E", i + 2)
        return len(pattern) if close < 0 else close + 2
    return i + 2


def _class_end(pattern: str, i: int) -> int:
    """Skip a character class: a ']' first (after an optional '^') is a member, as are the
    ']' of [:alpha:]; escapes inside are left to RE2, which rejects \\C there too."""
    i += 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):
        i += 1
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
        elif pattern.startswith("[:", i) and (close := pattern.find(":]", i + 2)) >= 0:
            i = close + 2
        elif pattern[i] == "]":
            return i + 1
        else:
            i += 1
    return i


def _group(pattern: str, i: int, names: list[str]) -> int:
    if not pattern.startswith("(?", i):
        names.append("")
        return i + 1
    if pattern.startswith("(?P<", i):
        start = i + 4
    elif pattern.startswith("(?<", i):
        start = i + 3
    else:
        return i + 2  # flags or a non-capturing group
    close = pattern.find(">", start)
    if close < 0:
        raise GoSyntaxError("invalid named capture", pattern[i:])
    name = pattern[start:close]
    if name and not set(name) <= _WORD:
        raise GoSyntaxError("invalid named capture", pattern[i : close + 1])
    names.append(name)
    return close + 1
