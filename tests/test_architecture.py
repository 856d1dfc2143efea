"""The layers of the house (docs/architecture.md), enforced: who may import whom, and which messages may name a flag.

Every module of the package is read with ``ast`` (nothing is imported), its imports of minigan
resolved to a layer, and each checked against the layers below it. A new module lands in a layer
by its path; a module in no known layer fails the test, so the map cannot fall behind the tree.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "minigan"

FLAT_LIBRARY = {"nn", "module", "functional", "init", "losses", "optim", "gradcheck"}
DOORS = {"train", "sample", "evaluate"}

# layer -> the layers its modules may import (their own included)
MAY_IMPORT = {
    "backend": set(),
    "autograd": {"backend", "autograd"},
    "library": {"backend", "autograd", "library"},
    "data": {"backend", "data"},
    "measure": {"backend", "autograd", "library", "data", "measure"},
    "gan": {"backend", "autograd", "library", "data", "measure", "gan"},
    "classroom": {"classroom"},  # the kit reads the library's source; it imports none of it
    "cli": {"backend", "autograd", "library", "data", "measure", "gan"},  # what the doors share
    "lab": {"backend", "autograd", "library", "data", "measure", "gan", "lab"},  # session state, API, page
    "door": {"backend", "autograd", "library", "data", "measure", "gan", "cli", "lab"},  # never another door
}


def layer_of(dotted: str) -> str:
    """The layer of a module named ``minigan.x.y`` (or the package ``minigan`` itself: the library's face)."""
    parts = dotted.split(".")[1:]
    if parts[:2] == ["lab", "__main__"]:
        return "door"  # python -m minigan.lab
    if parts[:1] == ["lab"]:
        return "lab"
    if not parts or parts[0] in FLAT_LIBRARY:
        return "library"
    if parts[0] in ("autograd", "data", "measure", "gan", "classroom", "backend", "cli"):
        return parts[0]
    if parts[0] in DOORS:
        return "door"
    raise AssertionError(f"{dotted} is in no layer of docs/architecture.md: add it to the map and to this test")


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in the file, ``from minigan import x`` as ``minigan.x``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "minigan":  # from minigan import nn, backend: each name is a module or the face
                found += [(node.lineno, f"minigan.{a.name}") if (PACKAGE / a.name).exists()
                          or (PACKAGE / f"{a.name}.py").exists() else (node.lineno, "minigan") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_is_in_a_layer():
    assert MODULES, "no modules found"
    for path in MODULES:
        layer_of(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_go_down_the_layers_only(path):
    me = layer_of(module_name(path))
    bad = []
    for line, dotted in imports(path):
        root = dotted.split(".")[0]
        if root == "torch":
            bad.append(f"line {line}: imports torch (only benchmarks and tests may)")
        if root != "minigan":
            continue
        theirs = layer_of(dotted)
        if theirs not in MAY_IMPORT[me]:
            bad.append(f"line {line}: a {me} module imports {dotted} ({theirs})")
    assert bad == []


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


@pytest.mark.parametrize("path", [p for p in MODULES if layer_of(module_name(p)) not in ("door", "cli")],
                         ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_message_below_the_doors_names_a_flag(path):
    """A raised message names a setting as a Python caller knows it (`lr`); the doors show the flag."""
    tree = ast.parse(path.read_text(), str(path))
    said = [(n.lineno, s) for n in ast.walk(tree) if isinstance(n, ast.Raise) and n.exc is not None
            for s in _strings(n.exc) if FLAG.search(s)]
    if module_name(path).startswith("minigan.classroom"):
        # The kit's messages are for its own command, python -m minigan.classroom, whose flags they may name.
        said = [(line, s) for line, s in said if not re.search(r"--(out|only|jobs|json|timeout|with-reference)\b", s)]
    assert said == []


def test_the_flag_rendering_turns_settings_into_flags():
    from minigan.cli import with_flags

    assert with_flags("`batch_size` (12) must be a multiple of `pack` (5).") == \
        "--batch-size (12) must be a multiple of --pack (5)."
    assert with_flags("run `pip install cupy`") == "run `pip install cupy`"  # code, not a setting
