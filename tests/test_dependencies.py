"""Declared dependencies match what the code imports (pyproject.toml is the one list).

- every third-party module that rfnet (and apps/, while it exists) imports belongs to a distribution
  declared in ``[project] dependencies`` or an extra; one imported when a module is imported (module
  level, outside ``if TYPE_CHECKING`` and ``try: ... except ImportError``) must be a core dependency;
- every core dependency is imported somewhere (no dead ones);
- no requirement is an exact ``==`` / ``===`` pin.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOTS = [path for path in (ROOT / "rfnet", ROOT / "apps") if path.is_dir()]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalise(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1))


def requirement_specifiers(requirement: str) -> list[str]:
    """The version clauses of a PEP 508 requirement (name, extras and markers removed)."""
    body = requirement.split(";", 1)[0]
    body = re.sub(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?", "", body).strip(" ()")
    return [clause.strip() for clause in body.split(",") if clause.strip()]


def declared() -> tuple[set[str], set[str]]:
    """(core distribution names, names in any extra), normalised."""
    core = {requirement_name(r) for r in PYPROJECT.get("dependencies", [])}
    extras = {requirement_name(r) for group in PYPROJECT.get("optional-dependencies", {}).values() for r in group}
    return core, extras


def _optional_try(node: ast.Try) -> bool:
    """``try: import x`` guarded by ``except ImportError`` (or ModuleNotFoundError): an optional import."""
    for handler in node.handlers:
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
            return True
    return False


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


def module_imports(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(top-level names imported when the module is imported, names imported anywhere)."""
    at_import: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            at_import.update(_imported(node))
            if isinstance(node, ast.If) and not _type_checking(node):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try) and not _optional_try(node):
                visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, (ast.With, ast.ClassDef)):
                visit(node.body)

    visit(tree.body)
    anywhere = {name for node in ast.walk(tree) for name in _imported(node)}
    return at_import, anywhere


def local_names() -> set[str]:
    """rfnet, and the modules and packages of script folders (apps/ imports its neighbours by name)."""
    names = {"rfnet"}
    for root in SOURCE_ROOTS:
        if root.name == "rfnet":
            continue  # rfnet imports itself as rfnet.*: its file names must not hide a third-party module
        names.update(path.stem for path in root.rglob("*.py"))
        names.update(path.name for path in root.rglob("*") if path.is_dir())
    return names


@functools.cache
def third_party_imports() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """({module: files importing it at import time}, {module: files importing it anywhere})."""
    skip = set(sys.stdlib_module_names) | local_names() | {"__future__"}
    at_import: dict[str, set[str]] = {}
    anywhere: dict[str, set[str]] = {}
    for root in SOURCE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            eager, every = module_imports(ast.parse(path.read_text(), filename=str(path)))
            where = str(path.relative_to(ROOT))
            for name in eager - skip:
                at_import.setdefault(name, set()).add(where)
            for name in every - skip:
                anywhere.setdefault(name, set()).add(where)
    return at_import, anywhere


@functools.cache
def _installed_modules() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions(module: str) -> set[str]:
    """Distributions that provide the top-level ``module`` (by the installed metadata; the module's own
    name when it is not installed, so a missing dependency still fails by name)."""
    found = _installed_modules().get(module)
    return {normalise(name) for name in found} if found else {normalise(module)}


def test_every_import_is_declared_and_eager_imports_are_core():
    core, extras = declared()
    at_import, anywhere = third_party_imports()
    assert "torch" in anywhere and "numpy" in anywhere  # the walk found the code
    undeclared = {m: sorted(files) for m, files in anywhere.items() if not distributions(m) & (core | extras)}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
    not_core = {m: sorted(files) for m, files in at_import.items() if not distributions(m) & core}
    assert not not_core, ("imported at module level but only in an extra (import it inside the function "
                          f"that needs it, or make it a core dependency): {not_core}")


def test_every_core_dependency_is_imported():
    core, _ = declared()
    _, anywhere = third_party_imports()
    used = set().union(*(distributions(module) for module in anywhere))
    assert not core - used, f"declared in [project] dependencies but never imported: {sorted(core - used)}"


@pytest.mark.parametrize("group", ["dependencies", *sorted(PYPROJECT.get("optional-dependencies", {}))])
def test_no_exact_pins(group):
    requirements = PYPROJECT["dependencies"] if group == "dependencies" else PYPROJECT["optional-dependencies"][group]
    pinned = [r for r in requirements for clause in requirement_specifiers(r)
              if clause.startswith("===") or (clause.startswith("==") and not clause.endswith(".*"))]
    assert not pinned, f"exact pins in {group} (give a range that admits the tested version): {pinned}"


def test_the_checks_can_fail():
    """The helpers see what they should: an exact pin, a guarded import, an import inside a function."""
    assert requirement_specifiers("sigmf==1.14.0") == ["==1.14.0"]
    assert requirement_specifiers("Foo[bar] >=1, <2 ; python_version < '3.12'") == [">=1", "<2"]
    assert requirement_name("Scikit_Learn>=1.3") == "scikit-learn"
    eager, every = module_imports(ast.parse(
        "import a\nfrom b.c import d\n"
        "try:\n    import e\nexcept ImportError:\n    e = None\n"
        "if TYPE_CHECKING:\n    import f\n"
        "def g():\n    import h\n"))
    assert eager == {"a", "b"} and every == {"a", "b", "e", "f", "h"}
