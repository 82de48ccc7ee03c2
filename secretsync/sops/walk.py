"""The tree walk that encrypts or decrypts every leaf and computes the MAC (sops.go).

The walk mirrors `TreeBranch.walkBranch`/`walkSlice` exactly, because the MAC is a hash over
leaf plaintexts in walk order and the comment stack decides comment-regex rules. Nothing is
returned until the whole walk succeeded, so a failure never leaks a partial plaintext.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from secretsync.errors import DecryptionError
from secretsync.sops.cipher import ValueCipher
from secretsync.sops.rules import Rules
from secretsync.sops.tree import Branch, Comment, Value
from secretsync.sops.values import to_bytes

MAC_ONLY_ENCRYPTED_INIT = hashlib.sha256(b"sops").digest()

Stack = list[list[str]]
Leaf = Callable[[Value, tuple[str, ...], Stack], Value]


def _walk_value(value: Value, path: tuple[str, ...], stack: Stack, leaf: Leaf) -> Value:
    if isinstance(value, Branch):
        return _walk_branch(value, path, stack, leaf)
    if isinstance(value, tuple):
        return _walk_seq(value, path, stack, leaf)
    if value is None:
        return None
    if isinstance(value, bytes):
        # sops turns []byte into a string before visiting it.
        return leaf(value.decode("utf-8", "surrogateescape"), path, stack)
    return leaf(value, path, stack)


def _walk_seq(seq: tuple[Value, ...], path: tuple[str, ...], stack: Stack, leaf: Leaf) -> Value:
    stack = [*stack, []]
    out: list[Value] = []
    for item in seq:
        is_comment = isinstance(item, Comment)
        if isinstance(item, Comment):
            stack[-1].append(item.value)
        out.append(_walk_value(item, path, stack, leaf))
        if not is_comment:
            stack[-1] = []
    return tuple(out)


def _walk_branch(branch: Branch, path: tuple[str, ...], stack: Stack, leaf: Leaf) -> Branch:
    stack = [*stack, []]
    out: list[tuple[str | Comment, Value]] = []
    for key, value in branch.items:
        if isinstance(key, Comment):
            stack[-1].append(key.value)
            result = leaf(key, path, stack)
            if isinstance(result, str):
                result = Comment(result, key.inline)
            out.append((result if isinstance(result, Comment) else key, None))
            continue
        if isinstance(value, Comment):
            stack[-1].append(value.value)
        out.append((key, _walk_value(value, (*path, key), stack, leaf)))
        if not isinstance(value, Comment):
            stack[-1] = []
    return Branch(tuple(out))


def _aad(path: tuple[str, ...]) -> str:
    return ":".join(path) + ":" if path else ":"


def _new_hash(rules: Rules) -> Any:
    digest = hashlib.sha512()
    if rules.mac_only_encrypted:
        digest.update(MAC_ONLY_ENCRYPTED_INIT)
    return digest


def encrypt_branches(
    branches: tuple[Branch, ...], rules: Rules, cipher: ValueCipher
) -> tuple[tuple[Branch, ...], str]:
    """Encrypt every leaf the rules select; returns the new documents and the hex MAC."""
    rules = rules.effective()
    digest = _new_hash(rules)

    def leaf(value: Value, path: tuple[str, ...], stack: Stack) -> Value:
        is_comment = isinstance(value, Comment)
        encrypted = rules.should_encrypt(path, stack, is_comment)
        if (encrypted or not rules.mac_only_encrypted) and not is_comment:
            digest.update(to_bytes(value))
        if not encrypted:
            return value
        if _is_empty(value):
            return ""
        out = cipher.encrypt(value, _aad(path))
        if is_comment and rules.matches_unencrypted_comment(out):
            raise DecryptionError(
                "an encrypted comment matches unencrypted_comment_regex; change the regex"
            )
        return out

    out = tuple(_walk_branch(branch, (), [], leaf) for branch in branches)
    return out, digest.hexdigest().upper()


def decrypt_branches(
    branches: tuple[Branch, ...], rules: Rules, cipher: ValueCipher, *, keep_inline: bool = False
) -> tuple[tuple[Branch, ...], str]:
    """Decrypt every encrypted leaf; returns the plaintext documents and the recomputed MAC."""
    rules = rules.effective()
    digest = _new_hash(rules)

    def leaf(value: Value, path: tuple[str, ...], stack: Stack) -> Value:
        encrypted = rules.should_encrypt(path, stack, isinstance(value, Comment))
        result = _decrypt_leaf(value, _aad(path), cipher) if encrypted else value
        if keep_inline and isinstance(value, Comment) and isinstance(result, Comment):
            # sops forgets that a decrypted comment was inline; keep it when re-encrypting.
            result = Comment(result.value, value.inline)
        if (encrypted or not rules.mac_only_encrypted) and not isinstance(result, Comment):
            digest.update(to_bytes(result))
        return result

    out = tuple(_walk_branch(branch, (), [], leaf) for branch in branches)
    return out, digest.hexdigest().upper()


def _decrypt_leaf(value: Value, aad: str, cipher: ValueCipher) -> Value:
    if isinstance(value, Comment):
        if value.value == "":
            return ""
        try:
            return cipher.decrypt(value.value, aad)
        except DecryptionError:
            # Files from older sops carry plaintext comments; sops keeps them verbatim.
            return value
    if not isinstance(value, str):
        raise DecryptionError(
            f"expected an encrypted string at {aad!r} but found a {type(value).__name__}"
        )
    if value == "":
        return ""
    return cipher.decrypt(value, aad)


def _is_empty(value: Value) -> bool:
    if isinstance(value, Comment):
        return value.value == ""
    return value in ("", b"") and isinstance(value, str | bytes)
