"""The function map ESO gives its templates: Go built-ins, then sprig, then ESO's own.

Later entries win, as text/template consults the template's own FuncMap before its built-ins
(so sprig's `slice` replaces Go's). sprig's env, expandenv and getHostByName are left out, as
ESO leaves them out.
"""

from __future__ import annotations

from secretsync.template import (
    eso_funcs,
    sprig_crypto,
    sprig_dates,
    sprig_defaults,
    sprig_dicts,
    sprig_encoding,
    sprig_lists,
    sprig_math,
    sprig_misc,
    sprig_regex,
    sprig_semver,
    sprig_strings,
)
from secretsync.template.builtins import BUILTINS, SPECIALS
from secretsync.template.callables import GoFunc

FUNCS: dict[str, GoFunc] = {
    **BUILTINS,
    **sprig_strings.FUNCS,
    **sprig_encoding.FUNCS,
    **sprig_defaults.FUNCS,
    **sprig_lists.FUNCS,
    **sprig_dicts.FUNCS,
    **sprig_math.FUNCS,
    **sprig_regex.FUNCS,
    **sprig_misc.FUNCS,
    **sprig_crypto.FUNCS,
    **sprig_dates.FUNCS,
    **sprig_semver.FUNCS,
    **eso_funcs.FUNCS,
}


def has_func(name: str) -> bool:
    return name in FUNCS or name in SPECIALS


__all__ = ["FUNCS", "SPECIALS", "has_func"]
