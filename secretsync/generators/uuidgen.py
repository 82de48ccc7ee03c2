"""The UUID generator: a random (version 4) UUID under the key `uuid`, as ESO's."""

from __future__ import annotations

import secrets
import uuid

from secretsync.api.generators import UUIDSpec
from secretsync.generators.base import GeneratorContext

KEY = "uuid"


def generate(spec: UUIDSpec, ctx: GeneratorContext) -> dict[str, bytes]:
    value = uuid.UUID(bytes=secrets.token_bytes(16), version=4)
    return {KEY: str(value).encode()}
