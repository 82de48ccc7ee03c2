"""How Vault/OpenBao responses become Secret bytes, byte for byte as ESO does (eso.md §2.2-2.5, §7).

Pure functions over JSON text; no I/O. Numbers are kept as their source text (gjson.Number)
until ESO's own code would turn them into float64.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Mapping
from typing import Any

from secretsync.errors import ConfigError, NotFound
from secretsync.providers import gjson


def secret_data(body_text: str, kv2: bool, key: str) -> dict[str, Any]:
    """The data map of a read response; a missing or null (deleted, destroyed) one is NotFound."""
    body = gjson.loads(body_text) if body_text else None
    data = body.get("data") if isinstance(body, dict) else None
    if kv2 and isinstance(data, dict):
        data = data.get("data")
    if data is None:
        raise NotFound(f"secret {key!r} has no data (deleted or destroyed version)")
    if not isinstance(data, dict):
        raise ConfigError(f"secret {key!r}: the server returned data that is not a JSON object")
    return data


def select(data: Mapping[str, Any], prop: str | None) -> bytes:
    """ESO's getSecretValue: whole map as Go JSON, else a literal key, else a gjson path."""
    text = gjson.marshal(dict(data))
    if not prop:
        return text.encode()
    if prop in data:
        return gjson.byte_value(data[prop])
    found = gjson.lookup(text, prop)
    if found is None:
        # ESO's errSecretKeyFmt; deliberately not NoSecretErr, so deletionPolicy does not apply.
        raise ConfigError(f"cannot find secret data for key: {json.dumps(prop)}")
    return found.text().encode()


def extract(value: bytes, key: str) -> dict[str, bytes]:
    """ESO's GetSecretMap: json.Unmarshal without UseNumber, then GetByteValue per entry."""
    try:
        decoded = gjson.loads(value)
    except ValueError as exc:
        raise ConfigError(
            f"secret {key!r}: the value is not JSON, so it cannot be extracted"
        ) from exc
    if not isinstance(decoded, dict):
        raise ConfigError(
            f"secret {key!r}: the value is not a JSON object, so it cannot be extracted"
        )
    return {name: _extracted(item) for name, item in decoded.items()}


def _extracted(value: Any) -> bytes:
    if isinstance(value, gjson.Number):
        # Go's FormatFloat(f, 'f', -1, 64): shortest digits, never an exponent.
        return _shortest(float(value)).encode()
    return gjson.byte_value(_as_float64(value))


def _as_float64(value: Any) -> Any:
    """Numbers inside nested values as Go's encoding/json writes a float64."""
    if isinstance(value, gjson.Number):
        return gjson.Number(go_json_float(float(value)))
    if isinstance(value, dict):
        return {k: _as_float64(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_float64(v) for v in value]
    return value


def _shortest(number: float) -> str:
    return format(decimal.Decimal(repr(number)).normalize(), "f")


def go_json_float(number: float) -> str:
    """encoding/json's float64: 'f' format in [1e-6, 1e21), else 'e' with a short exponent."""
    magnitude = abs(number)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        return _shortest(number)
    sign, digits, exponent = decimal.Decimal(repr(number)).normalize().as_tuple()
    assert isinstance(exponent, int)  # finite: JSON has no NaN or Infinity
    text = "".join(map(str, digits))
    power = exponent + len(text) - 1
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    exp = f"{abs(power):02d}"
    if power < 0 and exp.startswith("0"):
        exp = exp[1:]  # encoding/json cleans e-07 up to e-7, but keeps e+21
    return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{exp}"


def metadata_map(body_text: str, key: str) -> dict[str, str]:
    """metadataPolicy Fetch: system fields plus custom_metadata (which wins on a clash)."""
    body = json.loads(body_text) if body_text else None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise NotFound(f"secret {key!r} has no metadata")
    out = {name: _flat(data.get(name)) for name in _SYSTEM_FIELDS if name in data}
    out.update({k: _flat(v) for k, v in (data.get("custom_metadata") or {}).items()})
    return out


_SYSTEM_FIELDS = ("created_time", "current_version", "delete_version_after")


def _flat(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def custom_metadata(body_text: str) -> dict[str, str]:
    body = json.loads(body_text) if body_text else {}
    data = body.get("data") or {}
    return {k: _flat(v) for k, v in (data.get("custom_metadata") or {}).items()}


def tags_match(custom: Mapping[str, str], tags: Mapping[str, str]) -> bool:
    return all(custom.get(name) == value for name, value in tags.items())


def metadata_version(body_text: str, with_metadata: bool) -> str | None:
    """KV v2 current_version; with metadataPolicy Fetch also updated_time, because a change to
    custom_metadata alone does not create a version."""
    data = (json.loads(body_text) if body_text else {}).get("data") or {}
    version = data.get("current_version")
    if version is None:
        return None
    return f"{version}@{data.get('updated_time')}" if with_metadata else str(version)


def list_keys(body_text: str) -> list[str]:
    data = (json.loads(body_text) if body_text else {}).get("data") or {}
    return [str(k) for k in data.get("keys") or ()]
