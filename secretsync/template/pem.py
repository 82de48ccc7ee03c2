"""Go's encoding/pem: Decode (with its leniencies) and Encode (64-column base64, sorted headers).

ESO's PEM helpers are defined by what Go's pem package accepts, so this follows
encoding/pem/pem.go rather than a regex: a block needs matching BEGIN/END types, the END line
may carry only trailing whitespace, and a block whose base64 is broken is skipped.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

_START = b"\n-----BEGIN "
_END = b"\n-----END "
_DASHES = b"-----"


@dataclass(frozen=True)
class Block:
    type: str
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _get_line(data: bytes) -> tuple[bytes, bytes]:
    idx = data.find(b"\n")
    if idx < 0:
        line, rest = data, b""
    else:
        line, rest = data[:idx], data[idx + 1 :]
    return line.rstrip(b" \t\r"), rest


def decode(data: bytes) -> tuple[Block | None, bytes]:
    """The first PEM block in data and the bytes after it, or (None, data)."""
    rest = data
    while True:
        if rest.startswith(_START[1:]):
            rest = rest[len(_START) - 1 :]
        else:
            idx = rest.find(_START)
            if idx < 0:
                return None, data
            rest = rest[idx + len(_START) :]
        type_line, rest = _get_line(rest)
        if not type_line.endswith(_DASHES):
            continue
        found = _block_body(type_line[: -len(_DASHES)], rest)
        if found is not None:
            return found


def _block_body(type_line: bytes, rest: bytes) -> tuple[Block, bytes] | None:
    headers: dict[str, str] = {}
    while True:
        if not rest:
            return None
        line, following = _get_line(rest)
        key, colon, value = line.partition(b":")
        if not colon:
            break
        headers[key.strip().decode("latin-1")] = value.strip().decode("latin-1")
        rest = following
    if not headers and rest.startswith(_END[1:]):
        end_index, trailer_index = 0, len(_END) - 1
    else:
        end_index = rest.find(_END)
        trailer_index = end_index + len(_END)
    if end_index < 0:
        return None
    trailer = rest[trailer_index:]
    trailer_len = len(type_line) + len(_DASHES)
    if len(trailer) < trailer_len or trailer[:trailer_len] != type_line + _DASHES:
        return None
    if _get_line(trailer[trailer_len:])[0]:
        return None
    body = rest[:end_index].replace(b" ", b"").replace(b"\t", b"").replace(b"\r", b"")
    try:
        decoded = base64.b64decode(body.replace(b"\n", b""), validate=True)
    except (binascii.Error, ValueError):
        return None
    _, after = _get_line(rest[end_index + len(_END) - 1 :])
    return Block(type_line.decode("latin-1"), decoded, headers), after


def decode_all(data: bytes) -> list[Block]:
    blocks: list[Block] = []
    while True:
        block, data = decode(data)
        if block is None:
            return blocks
        blocks.append(block)


def encode(block_type: str, data: bytes, headers: dict[str, str] | None = None) -> bytes:
    out = [f"-----BEGIN {block_type}-----\n".encode()]
    if headers:
        keys = sorted(headers, key=lambda k: (k != "Proc-Type", k))
        out += [f"{k}: {headers[k]}\n".encode("latin-1") for k in keys]
        out.append(b"\n")
    encoded = base64.b64encode(data)
    out += [encoded[i : i + 64] + b"\n" for i in range(0, len(encoded), 64)]
    out.append(f"-----END {block_type}-----\n".encode())
    return b"".join(out)
