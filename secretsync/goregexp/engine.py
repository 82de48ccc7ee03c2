"""The one home of RE2 (the `google-re2` package, module `re2`) in secretsync.

RE2 is the engine Go's regexp package reimplements: it matches in time linear in the input,
whatever the pattern, and releases the GIL while it matches, so one tenant's regexp cannot
stall the operator. Everything above this module works on UTF-8 bytes and byte offsets, as Go
does.

We call the package's pybind11 binding (`re2._re2.RE2`) rather than its `re`-like wrapper: the
wrapper re-encodes the whole text on every search when given a str (a FindAll loop would turn
quadratic), builds a match object per call (3x the cost of a search), and keeps an LRU of its
own whose entries our bounded cache could not release.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import re2
from re2 import _re2

MAX_MEM = 4 << 20
"""Bytes one compiled pattern may use: its program plus its DFA caches. RE2 refuses a pattern
whose program does not fit (reported as Go's "expression too large") and falls back from its DFA
to its NFA, still linear, when a search outgrows the cache. 4 MiB holds `\\pL{200}`; with the
64 patterns the cache in regexp.py keeps, a tenant can pin at most 256 MiB."""

_UNANCHORED = _re2.RE2.Anchor.UNANCHORED


class EngineError(ValueError):
    """RE2 refused the pattern; the message is RE2's own ("missing ): (a")."""


def _options() -> Any:
    options = re2.Options()
    options.max_mem = MAX_MEM
    options.encoding = re2.Options.Encoding.UTF8
    options.posix_syntax = False  # Perl syntax, as Go's regexp.Compile: \d, (?i), (?P<n>), \z
    options.longest_match = False  # leftmost-first, not leftmost-longest (that is CompilePOSIX)
    options.perl_classes = True
    options.word_boundary = True
    options.log_errors = False  # a bad user pattern is our error to report, not a log line
    return options


_OPTIONS = _options()


Search = Callable[[bytes, int, int], list[tuple[int, int]]]


class Program:
    """One compiled pattern, searched over UTF-8 bytes.

    `search(data, pos, len(data))` is the leftmost-first match at or after byte `pos`: a
    (start, end) pair per group, (-1, -1) for a group that did not take part (all of them when
    nothing matched). `^`, `\\b` and friends see the bytes before `pos`, as in Go. It is RE2's
    own call, bound once: the FindAll loops above call it per match.
    """

    __slots__ = ("groups", "search")

    def __init__(self, pattern: str) -> None:
        compiled = _re2.RE2(pattern.encode(), _OPTIONS)
        if not compiled.ok():
            raise EngineError(bytes(compiled.error()).decode("utf-8", "replace"))
        self.search: Search = functools.partial(compiled.Match, _UNANCHORED)
        self.groups: int = compiled.NumberOfCapturingGroups()
