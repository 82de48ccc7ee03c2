"""ESO-compatible templating: Go text/template with sprig and ESO's own functions, in pure Python.

Use `render` for a target.template's data (scope Values), `render_keys_and_values` for scope
KeysAndValues and templateFrom literals, or `compile_template`/`Template.execute` for finer
control. Every failure is a secretsync.errors.TemplateError naming the key and line:column.

Layout: lexer -> parser/parse_expr (nodes) -> executor, with Go's value model and printing in
values/gofmt/quoting. Functions: builtins (Go's), sprig_* by family, eso_funcs (ESO's own);
funcs.py assembles the map. Go library behaviour lives beside them: gojson, gobase64, gotime,
goyaml(_parse), pem; crypto_funcs is the only user of `cryptography`. Regexps are Go's, from
secretsync.goregexp (RE2), shared with the providers and sops.
"""

from secretsync.template.engine import (
    Template,
    compile_template,
    render,
    render_keys_and_values,
    render_string,
)

__all__ = ["Template", "compile_template", "render", "render_keys_and_values", "render_string"]
