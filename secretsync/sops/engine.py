"""The SOPS engine's public API: bytes in, bytes out; identities and recipients passed in.

`decrypt` always verifies the MAC unless the caller (the CLI's --ignore-mac, never the operator)
says otherwise. Nothing is returned until every value decrypted and the MAC matched.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace

from secretsync.errors import AlreadyEncrypted, ConfigError, DecryptionError, MacMismatch
from secretsync.sops import keys
from secretsync.sops.cipher import ValueCipher, random_data_key
from secretsync.sops.formats import Store, embed_metadata, extract_metadata, has_metadata_key
from secretsync.sops.masterkeys import KeyService
from secretsync.sops.metadata import AgeKey, KeyGroup, Metadata, OtherKey, from_plain, to_branch
from secretsync.sops.rules import Rules
from secretsync.sops.tree import Branch, Value
from secretsync.sops.values import utc_now_seconds

WRITER_VERSION = "3.13.3"
"""The sops release whose layout we write; sops reads the field only for display."""

MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 128


@dataclass(frozen=True)
class Loaded:
    """An encrypted file split into its documents (still encrypted) and metadata."""

    branches: tuple[Branch, ...]
    metadata: Metadata


@dataclass(frozen=True)
class Opened:
    """A decrypted file plus what re-encrypting it with the same data key needs."""

    branches: tuple[Branch, ...]
    metadata: Metadata
    data_key: bytes
    cipher: ValueCipher


def check_limits(data: bytes, source: str) -> None:
    if len(data) > MAX_INPUT_BYTES:
        raise ConfigError(f"is larger than {MAX_INPUT_BYTES} bytes", field=source)


def check_depth(branches: tuple[Branch, ...], source: str) -> None:
    stack: list[tuple[Value, int]] = [(b, 1) for b in branches]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(f"nests deeper than {MAX_DEPTH} levels", field=source)
        if isinstance(value, Branch):
            stack.extend((v, depth + 1) for _, v in value.items)
        elif isinstance(value, tuple):
            stack.extend((v, depth + 1) for v in value)


def load_plain(data: bytes, store: Store, source: str = "input") -> tuple[Branch, ...]:
    check_limits(data, source)
    branches = store.plain_loader(data, source)
    check_depth(branches, source)
    return branches


def load(data: bytes, store: Store, source: str = "input") -> Loaded:
    check_limits(data, source)
    branches = store.load(data, source)
    check_depth(branches, source)
    split = extract_metadata(store, branches)
    if split is None:
        raise ConfigError("has no sops metadata; it is not encrypted", field=source)
    return Loaded(split[0], from_plain(split[1]))


def data_key(metadata: Metadata, identities: keys.Identities) -> bytes:
    """Recover the data key from whichever key groups our identities open (Shamir if needed)."""
    failures: list[str] = []
    parts = [
        part for group in metadata.key_groups if (part := _open_group(group, identities, failures))
    ]
    if len(metadata.key_groups) == 1:
        if parts:
            return _checked_key(parts[0])
    else:
        needed = metadata.shamir_threshold or len(metadata.key_groups)
        if len(parts) >= needed:
            from secretsync.sops import shamir  # noqa: PLC0415 - only files with several groups

            return _checked_key(shamir.combine(parts))
    types = sorted({t for group in metadata.key_groups for t in group.types()})
    raise DecryptionError(
        "could not decrypt the data key with any available identity; "
        f"the file has keys of type: {', '.join(types)}"
        + (
            f" (skipped unsupported identities: {', '.join(identities.skipped)})"
            if identities.skipped
            else ""
        )
        + "".join(f"; {failure}" for failure in failures)
    )


def _open_group(
    group: KeyGroup, identities: keys.Identities, failures: list[str] | None = None
) -> bytes | None:
    """The group's data key (or Shamir part) from the first key we can open: age keys first,
    then keys held by a service, as sops tries a group's keys in turn."""
    if identities.keys or identities.pq:
        for entry in group.age:
            try:
                return keys.unwrap(entry.enc, identities)
            except DecryptionError:
                continue
    services = {service.key_type: service for service in identities.services}
    for other in group.others:
        service = services.get(other.type)
        if service is None:
            continue
        try:
            return bytes(service.unwrap(dict(other.fields)))
        except DecryptionError as exc:
            if failures is not None:
                failures.append(str(exc))
    return None


def _checked_key(key: bytes) -> bytes:
    if len(key) != 32:
        raise DecryptionError("the recovered data key has the wrong length")
    return key


def open_loaded(
    loaded: Loaded, key: bytes, *, verify_mac: bool = True, keep_inline: bool = True
) -> Opened:
    from secretsync.sops.walk import decrypt_branches  # noqa: PLC0415 - import cost only when used

    cipher = ValueCipher(key, stash=True)
    branches, computed = decrypt_branches(
        loaded.branches, loaded.metadata.rules, cipher, keep_inline=keep_inline
    )
    if verify_mac:
        verify(loaded.metadata, computed, cipher)
    return Opened(branches, loaded.metadata, key, cipher)


def verify(metadata: Metadata, computed: str, cipher: ValueCipher) -> None:
    if not metadata.mac:
        raise MacMismatch("the file has no MAC")
    stored = cipher.decrypt(metadata.mac, metadata.mac_aad)
    if not isinstance(stored, str) or not hmac.compare_digest(stored.encode(), computed.encode()):
        raise MacMismatch("MAC mismatch: the file was modified outside sops or is corrupt")


def decrypt(
    data: bytes,
    store: Store,
    identities: keys.Identities,
    *,
    output: Store | None = None,
    ignore_mac: bool = False,
    source: str = "input",
) -> bytes:
    """Decrypt a whole file and emit its plaintext in `output`'s format (default: the same)."""
    loaded = load(data, store, source)
    key = data_key(loaded.metadata, identities)
    # Plaintext output mirrors `sops decrypt`, which writes decrypted inline comments as heads.
    opened = open_loaded(loaded, key, verify_mac=not ignore_mac, keep_inline=False)
    return (output or store).plain_emitter(opened.branches, None)


@dataclass(frozen=True)
class Recipients:
    """Where a new data key goes: one tuple of recipients per key group. A recipient is an age
    key (`age1…`, `age1pq1…`, `ssh-…`) or a key one of `services` holds (a KMS key ARN, a Vault
    transit key URI)."""

    groups: tuple[tuple[str, ...], ...]
    shamir_threshold: int = 0
    services: tuple[KeyService, ...] = ()

    def __post_init__(self) -> None:
        if not self.groups or not all(self.groups):
            raise ConfigError(
                "no recipients given; pass --age or configure .sops.yaml", field="age"
            )


def wrap_key(key: bytes, recipients: Recipients, keep: Metadata | None = None) -> Metadata:
    """Metadata whose key groups hold `key` for every recipient (Shamir parts for >1 group)."""
    groups = recipients.groups
    threshold = recipients.shamir_threshold
    if len(groups) > 1:
        from secretsync.sops import shamir  # noqa: PLC0415 - only files with several groups

        threshold = threshold or len(groups)
        payloads = shamir.split(key, len(groups), threshold)
    else:
        threshold, payloads = 0, [key]
    created_at = utc_now_seconds()
    key_groups = tuple(
        _wrap_group(payload, group, recipients.services, created_at)
        for group, payload in zip(groups, payloads, strict=True)
    )
    base = keep or Metadata((), "", "", WRITER_VERSION)
    return replace(base, key_groups=key_groups, shamir_threshold=threshold)


def _wrap_group(
    payload: bytes, group: tuple[str, ...], services: tuple[KeyService, ...], created_at: str
) -> KeyGroup:
    ages: list[AgeKey] = []
    others: list[OtherKey] = []
    for recipient in dict.fromkeys(group):
        service = next((s for s in services if s.accepts(recipient)), None)
        if service is None:
            ages.append(AgeKey(recipient, keys.wrap(payload, keys.check_recipient(recipient))))
        else:
            entry = service.wrap(recipient, payload, created_at)
            others.append(OtherKey(service.key_type, tuple(entry.items())))
    return KeyGroup(tuple(ages), tuple(others))


def encrypt_opened(
    branches: tuple[Branch, ...],
    metadata: Metadata,
    cipher: ValueCipher,
    store: Store,
    *,
    indent: int | None = None,
    version: str | None = None,
) -> bytes:
    """Encrypt plaintext documents, set lastmodified and the MAC, and emit the file."""
    from secretsync.sops.walk import encrypt_branches  # noqa: PLC0415 - import cost only when used

    encrypted, mac = encrypt_branches(branches, metadata.rules, cipher)
    now = utc_now_seconds()
    sealed_mac = cipher.encrypt(mac, now)
    final = replace(metadata, lastmodified=now, mac=sealed_mac, version=version or metadata.version)
    return store.emit(embed_metadata(store, encrypted, to_branch(final)), indent)


def encrypt(
    data: bytes,
    store: Store,
    recipients: Recipients,
    rules: Rules | None = None,
    *,
    output: Store | None = None,
    indent: int | None = None,
    source: str = "input",
) -> bytes:
    """Encrypt a plaintext file with a new data key."""
    branches = load_plain(data, store, source)
    out_store = output or store
    if any(has_metadata_key(store, b) for b in branches[:1]):
        raise AlreadyEncrypted("already has sops metadata; it is already encrypted", field=source)
    rules = rules or Rules()
    # Since 3.11 the binary store gets no default unencrypted_suffix, and no other rule applies.
    if store.single_value:
        rules = Rules(mac_only_encrypted=rules.mac_only_encrypted)
    else:
        rules = rules.effective()
    key = random_data_key()
    metadata = replace(wrap_key(key, recipients), rules=rules)
    return encrypt_opened(
        branches, metadata, ValueCipher(key), out_store, indent=indent, version=WRITER_VERSION
    )


def open_file(
    data: bytes,
    store: Store,
    identities: keys.Identities,
    *,
    ignore_mac: bool = False,
    source: str = "input",
) -> Opened:
    """Decrypt into a tree and keep the data key and IVs, for edit/set/unset/updatekeys."""
    loaded = load(data, store, source)
    return open_loaded(loaded, data_key(loaded.metadata, identities), verify_mac=not ignore_mac)


def reencrypt(
    opened: Opened,
    store: Store,
    branches: tuple[Branch, ...] | None = None,
    *,
    indent: int | None = None,
    version: str | None = None,
) -> bytes:
    """Encrypt (possibly edited) documents with the same data key; unchanged values keep
    their exact ciphertext because the cipher reuses the IVs it saw while decrypting."""
    return encrypt_opened(
        opened.branches if branches is None else branches,
        opened.metadata,
        opened.cipher,
        store,
        indent=indent,
        version=version,
    )
