"""How an AWS value becomes Secret bytes, shared by Secrets Manager and Parameter Store (pure).

ESO's AWS rules: `property` is a gjson path with the dot-escaped
literal key tried first, objects come back as their raw JSON text with whitespace preserved;
`extract` unquotes string values and keeps everything else as raw JSON text; metadata is the
tags as a Go-marshalled JSON object.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping

from secretsync import goregexp
from secretsync.api.sources import RemoteRef
from secretsync.errors import ConfigError, NotFound, SecretSyncError
from secretsync.providers import gjson


@dataclasses.dataclass(frozen=True)
class RemoteValue:
    """One fetched value: a string, or (Secrets Manager only) binary."""

    text: str | None = None
    binary: bytes | None = None

    def raw(self) -> bytes:
        if self.text is not None:
            return self.text.encode()
        return self.binary or b""

    def json_text(self) -> str:
        # ESO runs gjson over SecretBinary too, so binary JSON documents work with property.
        return (
            self.text if self.text is not None else (self.binary or b"").decode("utf-8", "replace")
        )


def escape_key(key: str) -> str:
    """A literal key as a gjson path: `a.b` -> `a\\.b`."""
    return key.replace("\\", "\\\\").replace(".", "\\.")


def _lookup(text: str, path: str) -> gjson.Found | None:
    try:
        return gjson.lookup(text, path)
    except (ValueError, IndexError):
        return None  # not JSON: gjson finds nothing, and neither do we


def select(text: str, prop: str, key: str) -> bytes:
    """The `property` of a JSON value, ESO style; NotFound names the property, never the value."""
    found = None
    if "." in prop:
        found = _lookup(text, escape_key(prop))
    if found is None:
        found = _lookup(text, prop)
    if found is None:
        raise NotFound(f"key {prop} does not exist in secret {key}")
    return found.text().encode()


def value_of(value: RemoteValue, prop: str | None, key: str) -> bytes:
    if not prop:
        return value.raw()
    return select(value.json_text(), prop, key)


def extract(text: str, key: str) -> dict[str, bytes]:
    """dataFrom.extract: every top-level key; strings unquoted, other values as raw JSON."""
    try:
        decoded = gjson.loads(text)
    except ValueError:
        raise ConfigError(
            f"secret {key}: the value is not JSON, so it cannot be extracted"
        ) from None
    if not isinstance(decoded, dict):
        raise ConfigError(
            f"secret {key}: the value is not a JSON object, so it cannot be extracted"
        )
    out: dict[str, bytes] = {}
    for name in decoded:
        found = _lookup(text, escape_key(str(name)))
        out[str(name)] = found.text().encode() if found is not None else b""
    return out


def tags_json(tags: Iterable[Mapping[str, str]]) -> str:
    """AWS's [{Key, Value}] tag list as Go's json.Marshal of map[string]string."""
    return gjson.marshal({tag["Key"]: tag["Value"] for tag in tags})


def metadata(tags: Iterable[Mapping[str, str]], prop: str | None, key: str) -> bytes:
    text = tags_json(tags)
    return select(text, prop, key) if prop else text.encode()


def fingerprint(text: str) -> str:
    """A version stand-in for metadata, which has no version of its own (tags are not secret)."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def name_matcher(regexp: str | None) -> goregexp.Regexp | None:
    """find.name.regexp is Go's MatchString: unanchored search, linear time."""
    if regexp is None:
        return None
    return goregexp.compile(regexp, field="dataFrom.find.name.regexp")


def matches(name: str, pattern: goregexp.Regexp | None) -> bool:
    return pattern is None or pattern.match_string(name)


def has_tags(tags: Iterable[Mapping[str, str]], wanted: Mapping[str, str]) -> bool:
    """Every wanted pair present (AWS's filters match keys and values separately, not pairs)."""
    present = {tag["Key"]: tag["Value"] for tag in tags}
    return all(present.get(k) == v for k, v in wanted.items())


def chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def each(
    refs: Iterable[RemoteRef], read: Callable[[RemoteRef], bytes]
) -> dict[RemoteRef, bytes | SecretSyncError]:
    """`get_many`'s contract: one key's failure is returned in its place, not raised."""
    results: dict[RemoteRef, bytes | SecretSyncError] = {}
    for ref in refs:
        try:
            results[ref] = read(ref)
        except SecretSyncError as exc:
            results[ref] = exc
    return results
