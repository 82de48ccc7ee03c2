"""Key handling for dataFrom, in ESO's order: rewrite, else conversion; then validation.

Rewrites use RE2 syntax with Go's `$1` / `${1}` / `$name` replacement rules, including the
surprising one that `$1_x` names a group called `1_x` (ESO #1713), which expands to nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from secretsync.api.externalsecret import ConversionStrategy, Rewrite
from secretsync.errors import ConfigError
from secretsync.resolve import merge

MAX_KEY_LENGTH = 253
_VALID_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_VALID_CHAR = re.compile(r"[-._a-zA-Z0-9]")
_GO_NAME = re.compile(r"[A-Za-z0-9_]+")


def convert_key(key: str, strategy: ConversionStrategy) -> str:
    def replace(char: str) -> str:
        if _VALID_CHAR.fullmatch(char):
            return char
        return "_" if strategy is ConversionStrategy.DEFAULT else f"_U{ord(char):04x}_"

    return "".join(replace(c) for c in key)


def compile_re2(pattern: str, where: str) -> re.Pattern[str]:
    """Compile an RE2 pattern; the syntax Python shares with RE2 covers what ESO users write."""
    translated = pattern.replace(r"\z", r"\Z")
    try:
        return re.compile(translated)
    except re.error as exc:
        raise ConfigError(f"invalid regular expression: {exc.msg}", field=where) from None


def go_expand(template: str, match: re.Match[str]) -> str:
    """Go's Regexp.Expand: `$$` is a dollar, `${name}` and `$name` are groups, unknown is empty."""
    out, i = [], 0
    while i < len(template):
        char = template[i]
        if char != "$" or i + 1 == len(template):
            out.append(char)
            i += 1
            continue
        if template[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if template[i + 1] == "{":
            end = template.find("}", i + 2)
            name = template[i + 2 : end] if end != -1 else ""
            if end == -1 or not _GO_NAME.fullmatch(name):
                out.append(char)
                i += 1
                continue
            i = end + 1
        else:
            found = _GO_NAME.match(template, i + 1)
            if found is None:
                out.append(char)
                i += 1
                continue
            name, i = found.group(), found.end()
        out.append(_group(match, name))
    return "".join(out)


def _group(match: re.Match[str], name: str) -> str:
    try:
        value = match.group(int(name)) if name.isdigit() else match.group(name)
    except IndexError:  # no such group: Go expands it to nothing
        return ""
    return value or ""


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
        pattern = compile_re2(rewrite.regexp.source, f"{here}.regexp.source")
        target = rewrite.regexp.target
        return lambda key: pattern.sub(lambda m: go_expand(target, m), key)
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
