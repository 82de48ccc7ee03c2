"""sprig's path, URL, random and UUID functions.

Paths follow Go's path package (not os.path: Go's Clean also collapses a leading "//").
Random values come from the secrets module, as sprig's come from crypto/rand.
"""

from __future__ import annotations

import base64
import secrets
import string
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

from secretsync.template.callables import FuncError, GoFunc, check_size, make
from secretsync.template.values import from_bytes


def clean(path: str) -> str:
    """path.Clean."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in {"", "."}:
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append(part)
            continue
        parts.append(part)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def base(path: str) -> str:
    if not path:
        return "."
    path = path.rstrip("/")
    if not path:
        return "/"
    return path.rsplit("/", 1)[-1]


def dirname(path: str) -> str:
    return clean(path[: path.rfind("/") + 1])


def ext(path: str) -> str:
    name = path[path.rfind("/") + 1 :]
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def url_parse(text: str) -> dict[str, Any]:
    try:
        parts = urlsplit(text)
        hostname = parts.hostname or ""
    except ValueError as exc:
        raise FuncError(f"unable to parse url: {exc}") from None
    netloc = parts.netloc
    userinfo, _, host = netloc.rpartition("@")
    opaque = ""
    path = parts.path
    if parts.scheme and not netloc and path and not path.startswith("/"):
        opaque, path = path, ""
    return {
        "scheme": parts.scheme,
        "host": host,
        "hostname": hostname if "[" not in host else host.split("]")[0].lstrip("["),
        "path": path,
        "query": parts.query,
        "opaque": opaque,
        "fragment": parts.fragment,
        "userinfo": userinfo,
    }


def url_join(parts: dict[str, Any]) -> str:
    """url.URL{...}.String() from urlParse's keys."""

    def get(key: str) -> str:
        value = parts.get(key, "")
        return value if isinstance(value, str) else ""

    scheme, host, path, user = get("scheme"), get("host"), get("path"), get("userinfo")
    out = f"{scheme}:" if scheme else ""
    if get("opaque"):
        out += get("opaque")
    else:
        if scheme or host or user:
            if host or path or user:
                out += "//"
            if user:
                out += user + "@"
            out += host
        escaped = quote(path, safe="/;:@&=+$,!~*'()")
        if escaped and not escaped.startswith("/") and host:
            out += "/"
        out += escaped
    if get("query"):
        out += "?" + get("query")
    if get("fragment"):
        out += "#" + quote(get("fragment"), safe="/?:@&=+$,!~*'()")
    return out


_ASCII_PRINTABLE = "".join(chr(c) for c in range(32, 127))


def _random(alphabet: str) -> GoFunc:
    def run(count: int) -> str:
        if count < 0:
            raise FuncError(f"Requested random string length {count} is less than 0.")
        check_size(count)
        return "".join(secrets.choice(alphabet) for _ in range(count))

    return make(run, "i")


def rand_bytes(count: int) -> str:
    if count < 0:
        raise FuncError("negative count")
    check_size(count)
    return from_bytes(base64.b64encode(secrets.token_bytes(count)))


FUNCS: dict[str, GoFunc] = {
    "base": make(base, "s"),
    "dir": make(dirname, "s"),
    "clean": make(clean, "s"),
    "ext": make(ext, "s"),
    "isAbs": make(lambda p: p.startswith("/"), "s"),
    "osBase": make(base, "s"),
    "osDir": make(dirname, "s"),
    "osClean": make(clean, "s"),
    "osExt": make(ext, "s"),
    "osIsAbs": make(lambda p: p.startswith("/"), "s"),
    "urlParse": make(url_parse, "s"),
    "urlJoin": make(url_join, "m"),
    "randAlphaNum": _random(string.ascii_letters + string.digits),
    "randAlpha": _random(string.ascii_letters),
    "randNumeric": _random(string.digits),
    "randAscii": _random(_ASCII_PRINTABLE),
    "randBytes": make(rand_bytes, "i"),
    "uuidv4": make(lambda: str(uuid.uuid4()), ""),
}
