"""Key handling for dataFrom, in ESO's order: rewrite, else conversion; then validation.

Rewrites are Go's Regexp.ReplaceAllString (secretsync.goregexp: RE2, linear time), with Go's
`$1` / `${1}` / `$name` rules, including the surprising one that `$1_x` names a group called
`1_x` (ESO #1713), which expands to nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from secretsync import goregexp
from secretsync.api.sources import ConversionStrategy, Rewrite
from secretsync.errors import ConfigError
from secretsync.resolve import merge

MAX_KEY_LENGTH = 253
_VALID_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_VALID_CHAR = re.compile(r"[-._a-zA-Z0-9]")


def convert_key(key: str, strategy: ConversionStrategy) -> str:
    def replace(char: str) -> str:
        if _VALID_CHAR.fullmatch(char):
            return char
        return "_" if strategy is ConversionStrategy.DEFAULT else f"_U{ord(char):04x}_"

    return "".join(replace(c) for c in key)


def rewrite_keys(
    data: Mapping[str, bytes],
    rewrites: tuple[Rewrite, ...],
    where: str,
    transform: Callable[[str, str, str], str],
) -> dict[str, bytes]:
    """Apply each rewrite to every key, in order. `transform(template, key, where)` renders a
    transform rewrite (the template engine lives elsewhere)."""
    result = dict(data)
    for i, rewrite in enumerate(rewrites):
        here = f"{where}.rewrite[{i}]"
        if rewrite.merge is not None:
            # Merge combines values rather than renaming keys (resolve/merge.py).
            result = merge.rewrite_merge(rewrite.merge, result, f"{here}.merge")
            continue
        rename = _renamer(rewrite, here, transform)
        result = {rename(key): value for key, value in result.items()}
    return result


def _renamer(
    rewrite: Rewrite, here: str, transform: Callable[[str, str, str], str]
) -> Callable[[str], str]:
    if rewrite.regexp is not None:
        pattern = goregexp.compile(rewrite.regexp.source, field=f"{here}.regexp.source")
        target = rewrite.regexp.target
        return lambda key: pattern.replace_all_string(key, target)
    assert rewrite.transform is not None, "validated: exactly one operation"
    template = rewrite.transform.template
    return lambda key: transform(template, key, f"{here}.transform.template")


def validate_keys(data: Mapping[str, bytes], where: str) -> dict[str, bytes]:
    """Drop empty keys (as ESO does) and reject the ones a Secret cannot hold."""
    valid = {}
    for key, value in data.items():
        if not key:
            continue
        if len(key) > MAX_KEY_LENGTH or not _VALID_KEY.match(key):
            raise ConfigError(
                f"key {key!r} is not a valid Secret key (letters, digits, '-', '.', '_'; at most "
                f"{MAX_KEY_LENGTH} characters); add a rewrite or a conversionStrategy",
                field=where,
            )
        valid[key] = value
    return valid
