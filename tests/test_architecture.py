"""The public faces the import contracts point everyone to are real and documented.

import-linter (`make lint`) checks that capabilities reach each other only through
`gateway/<capability>/__init__.py`; this checks those faces themselves: each one has
an `__all__` that names exactly what it exports, every name resolves, and every class
and function it exports says in a docstring what it is for.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import audit

GATEWAY = Path(__file__).resolve().parents[1] / "gateway"
# Top-level packages of gateway/ that are not capabilities with a face of their own:
# the basics, imported module by module. (The command line's face is `main`.)
NOT_CAPABILITIES = {"core"}
CAPABILITIES = sorted(
    p.name
    for p in GATEWAY.iterdir()
    if (p / "__init__.py").is_file() and p.name not in NOT_CAPABILITIES | {"_shipped"}
)


def _face(name: str) -> ModuleType:
    return importlib.import_module(f"gateway.{name}")


def _imported_names(module: ModuleType) -> set[str]:
    """Names the face binds by `from ... import ...` at its top level, or for the type
    checker only (`if TYPE_CHECKING:`, names the face loads lazily)."""
    tree = ast.parse(inspect.getsource(module))
    top = [n for node in tree.body for n in (node.body if isinstance(node, ast.If) else [node])]
    names: set[str] = set()
    for node in top:
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith(("gateway.", "audit."))
        ):
            names |= {a.asname or a.name for a in node.names}
    return {n for n in names if not n.startswith("_")}


def test_every_package_of_gateway_is_a_capability_with_a_face() -> None:
    packages = {p.name for p in GATEWAY.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages - NOT_CAPABILITIES - {"_shipped"} == set(CAPABILITIES)
    assert len(CAPABILITIES) >= 14


@pytest.mark.parametrize("name", CAPABILITIES)
def test_a_face_exports_exactly_what_its_all_names(name: str) -> None:
    face = _face(name)
    exported = set(face.__all__)
    assert len(exported) == len(face.__all__), "a name is listed twice"
    assert exported == _imported_names(face) | _defined_names(face)
    for item in face.__all__:
        getattr(face, item)  # resolves (lazily loaded names too)


def _defined_names(module: ModuleType) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
    } | {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and not target.id.startswith("_")
    } - {"__all__"}


@pytest.mark.parametrize("module", [*(f"gateway.{n}" for n in CAPABILITIES), "audit"])
def test_everything_a_face_exports_is_documented(module: str) -> None:
    face = importlib.import_module(module)
    undocumented = [
        item
        for item in face.__all__
        if (inspect.isclass(obj := getattr(face, item)) and not obj.__dict__.get("__doc__"))
        or (inspect.isfunction(obj) and not obj.__doc__)
    ]
    assert face.__doc__
    assert undocumented == []


def test_the_audit_face_exports_what_it_names() -> None:
    assert set(audit.__all__) == _imported_names(audit)
