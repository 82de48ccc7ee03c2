"""Go's regexp package for every user-supplied pattern, on RE2: linear time, Go's syntax.

ESO, sprig and sops compile users' patterns with Go's regexp, whose engine is RE2. Python's `re`
backtracks (`^(a+)+$` on 24 characters takes 2 s, holding the GIL) and reads some syntax
differently, so template functions, `find.name.regexp`, `rewrite.regexp`, `namespaceRegexes`,
sops' creation and encryption rules and `find.path` globs all come here. Our own fixed patterns
stay on `re`, except the few that meet user data super-linearly there (sprig's semver
constraints, fromYaml's key pattern).

    engine.py   the one home of `re2` (google-re2): options, memory bound, byte-offset search
    syntax.py   what only Go's parser rejects; Go's error messages and capture names
    regexp.py   Regexp with Go's methods and Go's FindAll / ReplaceAll / Split / Expand rules
"""

from __future__ import annotations

from secretsync.errors import ConfigError
from secretsync.goregexp.regexp import Regexp, ResultTooLarge, cached, quote_meta
from secretsync.goregexp.syntax import GoSyntaxError

__all__ = ["GoSyntaxError", "Regexp", "ResultTooLarge", "compile", "match_string", "quote_meta"]


def compile(expr: str, *, field: str | None = None) -> Regexp:
    """regexp.Compile, cached. A pattern Go rejects is a ConfigError naming `field`, with Go's
    message: `error parsing regexp: missing closing ): `(a``."""
    try:
        return cached(expr)
    except GoSyntaxError as exc:
        raise ConfigError(str(exc), field=field) from None


def match_string(expr: str, text: str, *, field: str | None = None) -> bool:
    """regexp.MatchString: compile, then search anywhere in text."""
    return compile(expr, field=field).match_string(text)
