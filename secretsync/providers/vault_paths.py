"""Where a remote key lives on a Vault/OpenBao server: ESO's path rules (eso.md §2.2, §2.4).

Pure functions; no I/O. `mount` is the store's `path` (None when unset, in which case the key
itself must start with the mount).
"""

from __future__ import annotations

from secretsync.api.vault import KVVersion
from secretsync.errors import ConfigError


def data_path(mount: str | None, version: KVVersion, key: str) -> str:
    """ESO's buildPath: the path to GET a secret's data from."""
    if mount is not None:
        rest = _relative(mount, version, key, "data/")
        return f"{mount}/data/{rest}" if version is KVVersion.V2 else f"{mount}/{rest}"
    if version is KVVersion.V2 and "/data/" not in key:
        # No mount given: the first segment is the mount, and KV v2 wants /data after it.
        head, _, rest = key.partition("/")
        return f"{head}/data/{rest}" if rest else f"{head}/data"
    return key


def metadata_path(mount: str | None, key: str) -> str:
    """The KV v2 metadata path of a key.

    ESO prepends `<mount>/metadata/` without stripping a leading mount, and without a mount it
    requires `data` in the key. We strip the same prefixes buildPath strips (`<mount>/`, then
    `data/` or `metadata/`), so a key works the same for data and metadata reads; this only
    changes keys that produce a broken path in ESO.
    """
    if mount is not None:
        return f"{mount}/metadata/{_relative(mount, KVVersion.V2, key, 'data/', 'metadata/')}"
    if "/data/" in key:
        return key.replace("/data/", "/metadata/", 1)
    head, _, rest = key.partition("/")
    return f"{head}/metadata/{rest}" if rest else f"{head}/metadata"


def list_path(mount: str | None, version: KVVersion, find_path: str | None) -> str:
    """Where a recursive find starts LISTing, always ending in `/`."""
    prefix = (find_path or "").strip("/")
    if mount is None:
        if not prefix:
            raise ConfigError(
                "find needs find.path, starting with the mount, when the store has no path"
            )
        base = prefix if version is KVVersion.V1 else metadata_path(None, prefix)
        return base.rstrip("/") + "/"
    middle = "metadata/" if version is KVVersion.V2 else ""
    return f"{mount}/{middle}{prefix + '/' if prefix else ''}"


def candidate_prefix(find_path: str | None) -> str:
    """What LISTed names are prefixed with to form a key: ESO names a found secret by its full
    path relative to the mount (or including the mount, when the store has none)."""
    prefix = (find_path or "").strip("/")
    return prefix + "/" if prefix else ""


def _relative(mount: str, version: KVVersion, key: str, *inner: str) -> str:
    """Strip a leading `<mount>/` and, on KV v2, a following `data/` (ESO's buildPath).

    ESO's own comment calls this buggy when a secret path repeats the mount name; we keep it
    because users' manifests rely on both spellings.
    """
    cut = mount + "/"
    if not key.startswith(cut):
        return key
    rest = key[len(cut) :]
    if version is KVVersion.V2:
        for prefix in inner:
            if rest.startswith(prefix):
                return rest[len(prefix) :]
    return rest
