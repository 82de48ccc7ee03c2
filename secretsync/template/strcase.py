"""Case and word helpers behind sprig's title, swapcase, initials, snakecase, kebabcase and
camelcase, following Go's unicode package, goutils and huandu/xstrings."""

from __future__ import annotations

import re

# unicode.IsSpace; Python's str.isspace also counts \x1c-\x1f, which Go does not.
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_upper(text: str) -> str:
    # Go maps rune by rune; Python's full case mapping would turn "ß" into "SS".
    if text.isascii():
        return text.upper()
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in text)


def go_lower(text: str) -> str:
    # Only İ lowers to two code points in Python; Go's simple mapping gives plain i.
    if text.isascii():
        return text.lower()
    return "".join(c.lower()[0] for c in text)


def title(text: str) -> str:
    """strings.Title: upper-case the first letter of each word."""
    out: list[str] = []
    prev_sep = True
    for ch in text:
        out.append(ch.title()[:1] if prev_sep and ch.title()[:1] else ch)
        prev_sep = _is_separator(ch)
    return "".join(out)


def _is_separator(ch: str) -> bool:
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    return ch.isspace() or not (ch.isalpha() or ch.isdigit())


def initials(text: str) -> str:
    out: list[str] = []
    gap = True
    for ch in text:
        if ch in GO_SPACE:
            gap = True
        elif gap:
            out.append(ch)
            gap = False
    return "".join(out)


def swapcase(text: str) -> str:
    out: list[str] = []
    at_space = True
    for ch in text:
        if ch.isupper() or ch.istitle():
            out.append(ch.lower()[:1])
            at_space = False
        elif ch.islower():
            out.append((ch.title() if at_space else ch.upper())[:1])
            at_space = False
        else:
            out.append(ch)
            at_space = ch in GO_SPACE
    return "".join(out)


_RUNS = re.compile(
    r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+|[_\-\s]+|[^\w\s\-]", re.UNICODE
)


def _to_words(text: str) -> list[str]:
    """Words as xstrings splits them: a number joins the next lowercase run ("2xx", "3rd"),
    or else the word before it ("Bld4"); connectors (_, -, space) separate words; punctuation
    joins the words on both sides."""
    runs = _RUNS.findall(text)
    words: list[str] = []
    i, joinable, glue = 0, False, False
    while i < len(runs):
        run = runs[i]
        if run[0] in "_- \t\n\r\f\v":
            i, joinable, glue = i + 1, False, False
            continue
        if glue or (not run[0].isalnum() and joinable and words):
            # Punctuation sticks to its neighbours: xstrings writes no connector around it.
            words[-1] += run
            i, joinable, glue = i + 1, True, not run[0].isalnum()
            continue
        if not run[0].isalnum():
            words.append(run)
            i, joinable, glue = i + 1, True, True
            continue
        if run.isdigit():
            nxt = runs[i + 1] if i + 1 < len(runs) else ""
            if nxt[:1].islower():
                while i + 1 < len(runs) and (runs[i + 1][:1].islower() or runs[i + 1].isdigit()):
                    i += 1
                    run += runs[i]
            elif joinable and words:
                words[-1] += run
                i += 1
                continue
        words.append(run)
        i, joinable = i + 1, True
    return words


def snakecase(text: str) -> str:
    return "_".join(go_lower(w) for w in _to_words(text))


def kebabcase(text: str) -> str:
    return "-".join(go_lower(w) for w in _to_words(text))


def _is_connector(ch: str) -> bool:
    return ch in "-_" or ch in GO_SPACE


def camelcase(text: str) -> str:
    """xstrings.ToPascalCase: leading connectors stay; each word is capitalised and an
    all-caps word is lowered after its first letter."""
    i = 0
    while i < len(text) and _is_connector(text[i]):
        i += 1
    out = [text[:i]]
    if i == len(text):
        return text
    first_upper = text[i].isupper()
    prev = go_upper(text[i])
    for ch in text[i + 1 :]:
        cur = ch
        if _is_connector(cur) and _is_connector(prev):
            out.append(prev)
        elif _is_connector(prev):
            first_upper = cur.isupper()
            cur = go_upper(cur)
        else:
            if first_upper:
                if cur.isupper():
                    cur = go_lower(cur)
                else:
                    first_upper = False
            out.append(prev)
        prev = cur
    out.append(prev)
    return "".join(out)
