"""Go's string quoting and the escapers behind the html, js and urlquery built-ins."""

from __future__ import annotations

from urllib.parse import quote_plus

from secretsync.template.values import to_bytes

_QUOTE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
}
_SURROGATE_LOW, _SURROGATE_HIGH = 0xDC80, 0xDCFF


def _quote_char(ch: str, quote: str, ascii_only: bool) -> str:
    code = ord(ch)
    if ch == quote:
        return "\\" + ch
    if ch in _QUOTE_ESCAPES:
        return _QUOTE_ESCAPES[ch]
    if _SURROGATE_LOW <= code <= _SURROGATE_HIGH:
        # A byte that was not valid UTF-8 in the Go string.
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return ch if ch.isprintable() else f"\\x{code:02x}"
    if ch.isprintable() and not ascii_only:
        return ch
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def go_quote(text: str, ascii_only: bool = False) -> str:
    """strconv.Quote (or QuoteToASCII)."""
    return '"' + "".join(_quote_char(ch, '"', ascii_only) for ch in text) + '"'


def go_quote_rune(code: int) -> str:
    """strconv.QuoteRune."""
    if not 0 <= code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    return "'" + _quote_char(chr(code), "'", False) + "'"


_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


def html_escape(text: str) -> str:
    """text/template.HTMLEscapeString."""
    if not any(ch in text for ch in _HTML):
        return text
    return "".join(_HTML.get(ch, ch) for ch in text)


_JS = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def js_escape(text: str) -> str:
    """text/template.JSEscapeString."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in _JS:
            out.append(_JS[ch])
        elif code < 0x20:
            out.append(f"\\u00{code:02X}")
        elif code < 0x80 or ch.isprintable():
            out.append(ch)
        elif _SURROGATE_LOW <= code <= _SURROGATE_HIGH:
            out.append("\\uFFFD")
        else:
            out.append(f"\\u{code:04X}")
    return "".join(out)


def query_escape(text: str) -> str:
    """url.QueryEscape."""
    return quote_plus(to_bytes(text), safe="~")
