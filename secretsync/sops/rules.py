"""Which leaves get encrypted: sops' suffix and regex rules (`Tree.shouldBeEncrypted`).

Regexes are Go's (secretsync.goregexp, on RE2: linear time, since a file's metadata is input),
matched unanchored against each path component (or each active comment); a pattern Go rejects
is a ConfigError naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from secretsync.errors import ConfigError

# Every decrypt builds Rules from the file's metadata, and most files carry no regex rule, so
# goregexp (and RE2 under it) is imported by the first pattern compiled, not at start-up.
if TYPE_CHECKING:
    from secretsync import goregexp

DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"

RULE_FIELDS = (
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
)


@dataclass(frozen=True)
class Rules:
    """At most one field is set (sops refuses files with more)."""

    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: str = ""
    encrypted_regex: str = ""
    unencrypted_comment_regex: str = ""
    encrypted_comment_regex: str = ""
    mac_only_encrypted: bool = False

    def __post_init__(self) -> None:
        if sum(1 for name in RULE_FIELDS if getattr(self, name)) > 1:
            raise ConfigError("only one of " + ", ".join(RULE_FIELDS) + " may be set", field="sops")
        for name in RULE_FIELDS[2:]:
            _compile(getattr(self, name), name)

    def effective(self) -> Rules:
        """With no rule at all, sops assumes `unencrypted_suffix: _unencrypted`."""
        if any(getattr(self, name) for name in RULE_FIELDS):
            return self
        return Rules(
            unencrypted_suffix=DEFAULT_UNENCRYPTED_SUFFIX,
            mac_only_encrypted=self.mac_only_encrypted,
        )

    @cached_property
    def _patterns(self) -> dict[str, goregexp.Regexp | None]:
        return {name: _compile(getattr(self, name), name) for name in RULE_FIELDS[2:]}

    @cached_property
    def path_dependent_only(self) -> bool:
        """True when comments never change the decision (the fast path for big files)."""
        return not (self.unencrypted_comment_regex or self.encrypted_comment_regex)

    def matches_unencrypted_comment(self, text: str) -> bool:
        rx = self._patterns["unencrypted_comment_regex"]
        return rx is not None and rx.match_string(text)

    def should_encrypt(
        self, path: Sequence[str], comments: Sequence[Sequence[str]], is_comment: bool
    ) -> bool:
        encrypted = True
        if self.unencrypted_suffix and any(p.endswith(self.unencrypted_suffix) for p in path):
            encrypted = False
        if self.encrypted_suffix:
            encrypted = any(p.endswith(self.encrypted_suffix) for p in path)
        patterns = self._patterns
        if (rx := patterns["unencrypted_regex"]) and any(rx.match_string(p) for p in path):
            encrypted = False
        if rx := patterns["encrypted_regex"]:
            encrypted = any(rx.match_string(p) for p in path)
        if (rx := patterns["unencrypted_comment_regex"]) and any(
            rx.match_string(c) for level in comments for c in level
        ):
            encrypted = False
        if rx := patterns["encrypted_comment_regex"]:
            encrypted = _encrypted_by_comment(rx, comments, is_comment)
        return encrypted


def _encrypted_by_comment(
    rx: goregexp.Regexp, comments: Sequence[Sequence[str]], is_comment: bool
) -> bool:
    # The comment line that itself matches stays plaintext: sops skips the newest comment when
    # the leaf being decided is that comment.
    last_level = len(comments) - 1
    for i, level in enumerate(comments):
        for j, text in enumerate(level):
            if is_comment and i == last_level and j == len(level) - 1:
                continue
            if rx.match_string(text):
                return True
    return False


def _compile(pattern: str, field: str) -> goregexp.Regexp | None:
    if not pattern:
        return None
    from secretsync import goregexp  # noqa: PLC0415 - lazy, see the imports

    return goregexp.compile(pattern, field=field)
