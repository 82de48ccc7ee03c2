"""ESO-compatible templating: Go text/template with sprig and ESO's own functions, in pure Python.

Use `render` for a target.template's data, or `compile_template`/`Template.execute` for finer
control. Every failure is a secretsync.errors.TemplateError naming the key and line:column.
"""

from secretsync.template.engine import Template, compile_template, render, render_string

__all__ = ["Template", "compile_template", "render", "render_string"]
