"""Field declarations for the API models.

A model is a frozen dataclass whose fields carry a `Meta` (JSON name, doc, constraints). Both the
parser (models.parse) and the CRD schema generator (schema.py) read the same declarations, so
the CRD the apiserver enforces and the objects the operator parses cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

from secretsync.errors import ConfigError

_MISSING: Any = dataclasses.MISSING


@dataclasses.dataclass(frozen=True)
class Meta:
    doc: str
    json: str | None = None
    required: bool = False
    pattern: str | None = None
    schema_default: object = None
    """The default the CRD declares (as the apiserver stores it), when it differs from None."""

    one_of: Mapping[str, type | KeptOption] | None = None
    """For a tagged union: JSON key -> model (or KeptOption). Exactly one key must be set."""

    int_or_string: bool = False
    preserve_unknown: bool = False
    crd_optional: bool = False
    """Required by the parser but not by the CRD, because ESO's CRD does not require it: a
    schema stricter than ESO's would refuse objects ESO stores."""

    kept_values: Mapping[str, str] | None = None
    """Enum values ESO defines and secretsync does not implement -> what to use instead. The
    schema allows them (so such an object is stored); the parser answers `Unsupported`."""

    unsupported: str | None = None
    """For a field ESO defines and secretsync does not implement (see `kept`): what secretsync
    supports instead. The schema keeps any value there verbatim; the parser refuses a set one."""


UNSET: tuple[object, ...] = (None, False, "", [])
"""Values a kept field may hold and still count as unset: Go's zero values, which ESO itself
treats as "not given" (omitempty). An empty object is not among them: for a Go pointer to a
struct, `{}` selects that option with its defaults."""


@dataclasses.dataclass(frozen=True)
class KeptOption:
    """A union member ESO defines and secretsync does not implement (an ESO provider we do not
    serve). Its value is kept verbatim; choosing it is answered with `Unsupported`."""

    doc: str
    instead: str | None = None
    """What to use instead, when more specific than "one of the implemented options"."""


def kept(doc: str, *, instead: str, json: str | None = None) -> Any:
    """Declare a field that ESO defines and secretsync does not implement (yet).

    Its name is listed in the CRD, so a typo next to it is still refused by the apiserver, and its
    value (any JSON) is stored untouched: `{"x-kubernetes-preserve-unknown-fields": true}` with no
    type. The parser raises `Unsupported` naming the field path and `instead` when it is set.
    """
    meta = Meta(doc=doc, json=json, unsupported=instead)
    return dataclasses.field(default=None, metadata={"api": meta})


def field(
    doc: str,
    *,
    default: object = _MISSING,
    default_factory: Any = _MISSING,
    json: str | None = None,
    pattern: str | None = None,
    schema_default: object = None,
    one_of: Mapping[str, type | KeptOption] | None = None,
    int_or_string: bool = False,
    preserve_unknown: bool = False,
    crd_optional: bool = False,
    kept_values: Mapping[str, str] | None = None,
) -> Any:
    required = default is _MISSING and default_factory is _MISSING
    meta = Meta(
        crd_optional=crd_optional,
        kept_values=kept_values,
        doc=doc,
        json=json,
        required=required,
        pattern=pattern,
        schema_default=schema_default,
        one_of=one_of,
        int_or_string=int_or_string,
        preserve_unknown=preserve_unknown,
    )
    return dataclasses.field(
        default=default, default_factory=default_factory, metadata={"api": meta}
    )


def meta_of(f: dataclasses.Field[Any]) -> Meta:
    meta = f.metadata.get("api")
    if not isinstance(meta, Meta):
        raise TypeError(f"field {f.name} has no api metadata")
    return meta


def json_name(f: dataclasses.Field[Any]) -> str:
    explicit = meta_of(f).json
    if explicit:
        return explicit
    head, *rest = f.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_DURATION_S = (2**63 - 1) / 1e9


class Duration(datetime.timedelta):
    """A Go duration string ("1h0m0s", "30s", "0") as a timedelta, parsed the way Go parses it."""

    @classmethod
    def parse(cls, text: str, path: str) -> Duration:
        body = text.strip()
        sign = -1.0 if body.startswith("-") else 1.0
        body = body.lstrip("+-")
        if body == "0":
            return cls(0)
        seconds, position = 0.0, 0
        for match in _DURATION_PART.finditer(body):
            if match.start() != position:
                break
            seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            position = match.end()
        if position != len(body) or not body:
            raise ConfigError(
                f'"{text}" is not a duration; use Go syntax such as "30s", "5m" or "1h30m"',
                field=path,
            )
        if seconds > MAX_DURATION_S:
            # Go's time.ParseDuration refuses what overflows int64 nanoseconds, too.
            raise ConfigError(
                f'"{text}" is longer than a Go duration can be (about 292 years)', field=path
            )
        return cls(seconds=sign * seconds)
