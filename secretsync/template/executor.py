"""Walks a parse tree against data, following text/template/exec.go with missingkey=error.

Errors carry the source offset of the node being evaluated; engine.py turns that into a line and
column. Messages describe the template, never the data it was rendering.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from secretsync import limits
from secretsync.template import nodes as n
from secretsync.template.callables import FuncError, GoFunc
from secretsync.template.values import Stringer, format_value, is_true, sort_key, type_name

# The bounds and their reasons live in secretsync.limits (docs/limits.md).
MAX_DEPTH = limits.TEMPLATE_MAX_DEPTH
MAX_RANGE_ITERATIONS = limits.TEMPLATE_MAX_RANGE_ITERATIONS
MISSING = object()


class ExecError(Exception):
    """An execution failure at a source offset."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


class ExecLimit(ExecError):
    """One of secretsync.limits' bounds on a template's time or output was reached."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Executor:
    """One execution of one template; not reusable across renders."""

    def __init__(
        self,
        funcs: Mapping[str, GoFunc],
        specials: Mapping[str, Callable[[Executor, Any, n.Command, Any], Any]],
        templates: Mapping[str, tuple[n.Node, ...]],
    ) -> None:
        self.funcs = funcs
        self.specials = specials
        self.templates = templates
        self.out: list[str] = []
        self.vars: list[list[Any]] = []
        self.depth = 0
        self.iterations = 0
        self.size = 0
        self.deadline = time.monotonic() + limits.TEMPLATE_MAX_SECONDS

    def run(self, body: tuple[n.Node, ...], data: Any) -> str:
        self.vars = [["$", data]]
        self.walk_list(data, body)
        return "".join(self.out)

    # -- statements --------------------------------------------------------------------------
    def walk_list(self, dot: Any, body: tuple[n.Node, ...]) -> None:
        for node in body:
            if time.monotonic() > self.deadline:
                raise ExecLimit(
                    f"ran longer than {limits.TEMPLATE_MAX_SECONDS:g} s, secretsync's limit "
                    "for one template (docs/limits.md); loop over less data or move the "
                    "work out of the template",
                    node.pos,
                )
            if type(node) is n.Text:
                self.emit(node.text, node.pos)
            else:
                _WALKERS[type(node)](self, dot, node)

    def emit(self, text: str, pos: int) -> None:
        self.size += len(text)
        if self.size > limits.TEMPLATE_MAX_OUTPUT_BYTES:
            raise ExecLimit(
                f"output exceeded {limits.TEMPLATE_MAX_OUTPUT_BYTES} characters, secretsync's "
                "limit for one template (a Secret holds at most 1 MiB; docs/limits.md); "
                "write less, or split it across keys or ExternalSecrets",
                pos,
            )
        self.out.append(text)

    def walk_action(self, dot: Any, node: n.Action) -> None:
        value = self.eval_pipeline(dot, node.pipe)
        if not node.pipe.decl:
            self.emit(self.printable(value, node.pos), node.pos)

    def printable(self, value: Any, pos: int) -> str:
        if isinstance(value, str):
            return value
        if callable(value) and not isinstance(value, Stringer):
            raise ExecError(f"can't print value of type {type_name(value)}", pos)
        return format_value(value)

    def walk_if_with(self, dot: Any, node: n.If | n.With) -> None:
        mark = len(self.vars)
        value = self.eval_pipeline(dot, node.pipe)
        if is_true(value):
            self.walk_list(value if isinstance(node, n.With) else dot, node.body)
        elif node.else_body is not None:
            self.walk_list(dot, node.else_body)
        del self.vars[mark:]

    def walk_range(self, dot: Any, node: n.Range) -> None:
        mark = len(self.vars)
        value = self.eval_pipeline(dot, node.pipe)
        pairs = self.range_pairs(value, node)
        if not pairs:
            if node.else_body is not None:
                self.walk_list(dot, node.else_body)
            del self.vars[mark:]
            return
        self.iterations += len(pairs)
        if self.iterations > MAX_RANGE_ITERATIONS:
            raise ExecError(f"range exceeded {MAX_RANGE_ITERATIONS} iterations", node.pos)
        for index, elem in pairs:
            self.set_range_vars(node.pipe, index, elem)
            inner = len(self.vars)
            try:
                self.walk_list(elem, node.body)
            except _Continue:
                pass
            except _Break:
                break
            finally:
                del self.vars[inner:]
        del self.vars[mark:]

    def range_pairs(self, value: Any, node: n.Range) -> list[tuple[Any, Any]]:
        if value is None:
            return []
        if isinstance(value, dict):
            return [(k, value[k]) for k in sorted(value, key=sort_key)]
        if isinstance(value, (list, tuple)):
            return list(enumerate(value))
        if isinstance(value, int) and not isinstance(value, bool):
            if len(node.pipe.decl) > 1:
                raise ExecError("can't use an int to iterate over more than one variable", node.pos)
            if value > MAX_RANGE_ITERATIONS:
                raise ExecError(f"range exceeded {MAX_RANGE_ITERATIONS} iterations", node.pos)
            return [(i, i) for i in range(value)]
        raise ExecError(f"range can't iterate over a value of type {type_name(value)}", node.pos)

    def set_range_vars(self, pipe: n.Pipe, index: Any, elem: Any) -> None:
        decl = pipe.decl
        if not decl:
            return
        if pipe.is_assign:
            self.set_var(decl[0], index if len(decl) > 1 else elem, pipe.pos)
            if len(decl) > 1:
                self.set_var(decl[1], elem, pipe.pos)
            return
        self.vars[-1][1] = elem
        if len(decl) > 1:
            self.vars[-2][1] = index

    def walk_template(self, dot: Any, node: n.TemplateCall) -> None:
        body = self.templates.get(node.name)
        if body is None:
            raise ExecError(f'template "{node.name}" not defined', node.pos)
        if self.depth >= MAX_DEPTH:
            raise ExecError(f"exceeded maximum template depth ({MAX_DEPTH})", node.pos)
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else None
        saved = self.vars
        self.vars = [["$", new_dot]]
        self.depth += 1
        try:
            self.walk_list(new_dot, body)
        finally:
            self.depth -= 1
            self.vars = saved

    def walk_break(self, dot: Any, node: n.Break) -> None:
        raise _Break

    def walk_continue(self, dot: Any, node: n.Continue) -> None:
        raise _Continue

    # -- expressions -------------------------------------------------------------------------
    def eval_pipeline(self, dot: Any, pipe: n.Pipe) -> Any:
        value: Any = MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(name, value, pipe.pos)
            else:
                self.vars.append([name, value])
        return value

    def eval_command(self, dot: Any, cmd: n.Command, final: Any) -> Any:
        first = cmd.args[0]
        handler = _COMMANDS.get(type(first))
        if handler is not None:
            return handler(self, dot, first, cmd, final)
        self.not_a_function(cmd.args, final, first.pos)
        if type(first) is n.Nil:
            raise ExecError("nil is not a command", first.pos)
        return self.eval_arg(dot, first)

    def command_field(self, dot: Any, first: n.Field, cmd: n.Command, final: Any) -> Any:
        return self.eval_field_chain(dot, dot, first, first.names, (cmd.args, final))

    def command_variable(self, dot: Any, first: n.Variable, cmd: n.Command, final: Any) -> Any:
        value = self.var_value(first.names[0], first.pos)
        if len(first.names) == 1:
            self.not_a_function(cmd.args, final, first.pos)
            return value
        return self.eval_field_chain(dot, value, first, first.names[1:], (cmd.args, final))

    def command_chain(self, dot: Any, first: n.Chain, cmd: n.Command, final: Any) -> Any:
        receiver = self.eval_arg(dot, first.node)
        return self.eval_field_chain(dot, receiver, first, first.names, (cmd.args, final))

    def not_a_function(self, args: tuple[n.Operand, ...], final: Any, pos: int) -> None:
        if len(args) > 1 or final is not MISSING:
            raise ExecError("can't give argument to non-function", pos)

    def eval_arg(self, dot: Any, node: n.Operand) -> Any:
        kind = type(node)
        if kind is n.String or kind is n.Bool:
            return node.value  # type: ignore[union-attr]
        if kind is n.Number:
            return node.value  # type: ignore[union-attr]
        if kind is n.Dot:
            return dot
        if kind is n.Nil:
            return None
        if isinstance(node, n.Pipe):
            mark = len(self.vars)
            value = self.eval_pipeline(dot, node)
            del self.vars[mark:]
            return value
        return self.eval_command(dot, n.Command(node.pos, (node,)), MISSING)

    def eval_function(self, dot: Any, ident: n.Identifier, cmd: n.Command, final: Any) -> Any:
        special = self.specials.get(ident.name)
        if special is not None:
            return special(self, dot, cmd, final)
        func = self.funcs.get(ident.name)
        if func is None:
            raise ExecError(f'"{ident.name}" is not a defined function', ident.pos)
        args = [self.eval_arg(dot, arg) for arg in cmd.args[1:]]
        if final is not MISSING:
            args.append(final)
        try:
            return func.invoke(ident.name, args)
        except FuncError as exc:
            raise ExecError(f"error calling {ident.name}: {exc}", ident.pos) from None
        except RecursionError:
            message = f"error calling {ident.name}: value nested too deeply"
            raise ExecError(message, ident.pos) from None
        except Exception as exc:
            message = f"error calling {ident.name}: internal error ({type(exc).__name__})"
            raise ExecError(message, ident.pos) from None

    def eval_field_chain(
        self,
        dot: Any,
        receiver: Any,
        node: n.Operand,
        names: tuple[str, ...],
        call: tuple[tuple[n.Operand, ...], Any],
    ) -> Any:
        """Look up each name in turn; only the last may take the command's arguments."""
        for name in names[:-1]:
            receiver = self.eval_field(dot, name, node, ((), MISSING), receiver)
        return self.eval_field(dot, names[-1], node, call, receiver)

    def eval_field(
        self,
        dot: Any,
        name: str,
        node: n.Operand,
        call: tuple[tuple[n.Operand, ...], Any],
        receiver: Any,
    ) -> Any:
        args, final = call
        has_args = len(args) > 1 or final is not MISSING
        if isinstance(receiver, dict):
            if has_args:
                raise ExecError(f"{name} is not a method but has arguments", node.pos)
            if name in receiver:
                return receiver[name]
            raise ExecError(f'map has no entry for key "{name}"', node.pos)
        method = getattr(receiver, "go_method", None)
        if method is not None:
            call_args = [self.eval_arg(dot, arg) for arg in args[1:]]
            if final is not MISSING:
                call_args.append(final)
            try:
                return method(name, call_args)
            except FuncError as exc:
                raise ExecError(f"error calling {name}: {exc}", node.pos) from None
        if receiver is None:
            raise ExecError(f"nil pointer evaluating interface {{}}.{name}", node.pos)
        raise ExecError(f"can't evaluate field {name} in type {type_name(receiver)}", node.pos)

    # -- variables ---------------------------------------------------------------------------
    def var_value(self, name: str, pos: int) -> Any:
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry[1]
        raise ExecError(f"undefined variable: {name}", pos)

    def set_var(self, name: str, value: Any, pos: int) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return
        raise ExecError(f"undefined variable: {name}", pos)


_WALKERS: dict[type, Callable[[Executor, Any, Any], None]] = {
    n.Action: Executor.walk_action,
    n.If: Executor.walk_if_with,
    n.With: Executor.walk_if_with,
    n.Range: Executor.walk_range,
    n.TemplateCall: Executor.walk_template,
    n.Break: Executor.walk_break,
    n.Continue: Executor.walk_continue,
}

_COMMANDS: dict[type, Callable[[Executor, Any, Any, n.Command, Any], Any]] = {
    n.Field: Executor.command_field,
    n.Identifier: Executor.eval_function,
    n.Variable: Executor.command_variable,
    n.Chain: Executor.command_chain,
}
