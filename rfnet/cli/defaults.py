"""Help that shows every option's default, read from the job dataclass that owns it.

A job-backed option's parser default is ``None``, meaning "the job's default": the sub-command builds its
job from the options given (:func:`rfnet.cli.options.job_from_args`), so the dataclass field is the one
place each default is stated. ``--help`` must show that value without importing the job module (which
imports torch and would make ``rfnet COMMAND --help`` take seconds), so :func:`source_defaults` reads it
from the module's source with :mod:`ast`. ``tests/test_cli_options.py`` checks every value read this way
against the imported dataclass.
"""

from __future__ import annotations

import argparse
import ast
import functools
import types
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
"""The ``rfnet`` package folder; job references are modules under it."""

_EVAL_BUILTINS = {"tuple": tuple, "float": float, "int": int, "range": range}
"""All a default's expression may call: enough for ``tuple(float(db) for db in range(-40, 1, 2))``."""


def source_path(module: str) -> Path:
    """The source file of an ``rfnet`` module (``"rfnet.jobs.evaluate"`` → ``.../rfnet/jobs/evaluate.py``)."""
    head, *parts = module.split(".")
    if head != "rfnet" or not parts:
        raise ValueError(f"{module}: not a module of the rfnet package")
    return PACKAGE_ROOT.joinpath(*parts).with_suffix(".py")


@functools.cache
def source_defaults(ref: str) -> dict[str, object]:
    """Defaults of a job, read from source without importing it.

    Args:
        ref: ``"module:Name"``, a dataclass (its fields' defaults) or a function (its parameters' defaults),
            e.g. ``"rfnet.jobs.evaluate:EvaluateJob"``.

    Returns:
        field or parameter name → default value, for those that have one that can be read: a literal, a
        module constant or another class's field default (also imported from another ``rfnet`` module), or
        an expression of them with ``tuple``, ``float``, ``int`` and ``range``.
    """
    module, name = ref.split(":")
    for node in _parse(module).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == name:
            return _defaults(module, node)
    raise LookupError(f"{ref}: no class or function {name} in {source_path(module)}")


def _defaults(module: str, node: ast.ClassDef | ast.FunctionDef) -> dict[str, object]:
    """Field defaults of a (data)class, or parameter defaults of a function, that can be read."""
    if isinstance(node, ast.ClassDef):
        pairs = [(item.target.id, item.value) for item in node.body
                 if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.value]
    else:
        positional = node.args.posonlyargs + node.args.args
        pairs = list(zip([a.arg for a in positional[len(positional) - len(node.args.defaults):]], node.args.defaults))
        pairs += [(a.arg, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
    defaults = {}
    for field, expression in pairs:
        try:
            defaults[field] = _value(module, expression)
        except (LookupError, NameError):  # not a constant expression: help shows no default for it
            continue
    return defaults


@functools.cache
def _parse(module: str) -> ast.Module:
    path = source_path(module)
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _value(module: str, expression: ast.expr) -> object:
    """The value of a default's expression in ``module``: names are its module-level constants."""
    names = {node.id for node in ast.walk(expression) if isinstance(node, ast.Name)}
    bound = {node.id for node in ast.walk(expression) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    names -= bound | set(_EVAL_BUILTINS)  # a comprehension's own variables are not constants
    constants = {name: _constant(module, name) for name in names}
    code = compile(ast.Expression(expression), str(source_path(module)), "eval")
    return eval(code, {"__builtins__": _EVAL_BUILTINS, **constants})  # noqa: S307 - rfnet's own source


def _constant(module: str, name: str) -> object:
    """A module-level ``NAME = ...`` of ``module``, or one it imports with ``from rfnet... import NAME``; a
    class stands for its fields' defaults (so ``PGD.steps`` reads ``steps: int = 10`` of ``class PGD``)."""
    for node in _parse(module).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return types.SimpleNamespace(**_defaults(module, node))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return _value(module, node.value)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return _value(module, node.value)
        if isinstance(node, ast.ImportFrom):
            source = _imported_module(module, node)
            for alias in node.names:
                if (alias.asname or alias.name) == name and source.startswith("rfnet."):
                    return _constant(source, alias.name)
    raise LookupError(f"{name}: not a constant of {source_path(module)}")


def _imported_module(module: str, node: ast.ImportFrom) -> str:
    """The absolute name of the module ``from ... import`` reads in ``module`` (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module.rsplit(".", node.level)[0]
    return f"{package}.{node.module}" if node.module else package


def format_default(value: object) -> str:
    """How help shows a default: ``on``/``off``, ``1e-3``-style numbers, ``a,b`` for a tuple, and an evenly
    spaced tuple of numbers as the ``start:stop:step`` grid the budget options take."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        numbers = len(value) > 2 and all(isinstance(v, (int, float)) for v in value)
        steps = {round(b - a, 9) for a, b in zip(value, value[1:])} if numbers else set()
        if len(steps) == 1:
            return ":".join(format_default(v) for v in (value[0], value[-1], steps.pop()))
        return ",".join(format_default(v) for v in value)
    return str(value)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: VALUE)`` to each option's help: the parser's default, or for an option whose
    parser default is ``None`` the default of the job field named like its ``dest``. Help that already
    says what its default is (the word "default"), flags (``store_true``/``store_false``: off unless
    given) and options without a value to show are left as written."""

    job: str | None = None
    """``"module:Name"`` of the sub-command's job (see :func:`source_defaults`), or ``None``."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if not text or text == argparse.SUPPRESS or "default" in text.lower() or action.required:
            return text
        value = action.default
        if value is None and self.job is not None:
            value = source_defaults(self.job).get(action.dest)
        plain_flag = action.nargs == 0 and not isinstance(action, argparse.BooleanOptionalAction)
        if value is None or value == argparse.SUPPRESS or plain_flag or value == ():
            return text  # nothing to show, or a flag: off unless given
        shown = format_default(value).replace("%", "%%")  # argparse %-formats help strings
        return f"{text} (default: {shown})"


def job_help(job: str) -> type[DefaultsHelpFormatter]:
    """The help formatter of a sub-command whose options fill the job ``job`` (``"module:Name"``)."""
    return type(f"{job.split(':')[1]}HelpFormatter", (DefaultsHelpFormatter,), {"job": job})
