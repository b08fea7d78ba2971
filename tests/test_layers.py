"""semsim's layers, enforced: each module imports only from layers below its own (or from its
own folder), never sideways between search/ and training/, and never a private name of
another module. The layers are those of semsim/__init__.py's docstring.

Read from the source with ``ast`` (nothing is imported), so a new upward import fails here.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "semsim"

# Bottom first. A module may import from its own entry and from any entry of a lower layer.
LAYERS: list[list[str]] = [
    ["errors"],
    ["paths"],
    ["files"],
    ["storage"],
    ["text"],
    ["data", "evaluation", "evaluation_mteb"],
    ["models"],
    ["search", "training"],          # side by side: neither imports the other
    ["course"],
    ["__main__", "__init__"],
]
LEVEL = {entry: n for n, layer in enumerate(LAYERS) for entry in layer}


def entry_of(module: str) -> str:
    """'semsim.search.index' -> 'search'; 'semsim.errors' -> 'errors'; 'semsim' -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool = False) -> list[tuple[str, list[str], int]]:
    """(absolute module, names, line) of every import of a semsim module in ``source``."""
    here = module.split(".")
    package = here if is_package else here[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod != "semsim" and not mod.startswith("semsim."):
                continue
            names = [a.name for a in node.names]
            if node.module is None or mod == "semsim":     # `from . import data`: each name may be a module
                found += [(f"{mod}.{n}" if _is_module(f"{mod}.{n}") else mod, [n], node.lineno) for n in names]
            else:
                found.append((mod, names, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "semsim"]
    return found


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent / dotted.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    return imports(path.read_text(), module_name(path), path.name == "__init__.py")


def upward(source: str, module: str, is_package: bool = False) -> list[str]:
    """The imports of ``source`` (the module ``module``) that go up or sideways."""
    me = entry_of(module)
    bad = []
    for mod, names, line in imports(source, module, is_package):
        other = entry_of(mod)
        if other == me or (mod == "semsim" and me in ("__main__", "__init__")):
            continue
        if LEVEL[other] >= LEVEL[me]:
            bad.append(f"line {line}: {module} ({me}, layer {LEVEL[me]}) imports {mod} ({other}, layer {LEVEL[other]})")
    return bad


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_entry_has_a_layer():
    entries = {entry_of(module_name(p)) for p in MODULES}
    assert entries <= set(LEVEL), sorted(entries - set(LEVEL))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_go_down_never_up_or_sideways(path):
    bad = upward(path.read_text(), module_name(path), path.name == "__init__.py")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_private_name_is_used_across_modules(path):
    bad = [f"line {line}: from {mod} import {n}" for mod, names, line in imports_of(path) for n in names
           if n.startswith("_") and not n.startswith("__")]
    assert not bad, "\n".join(bad)


def test_only_the_faiss_modules_import_faiss_and_only_milvus_modules_pymilvus():
    allowed = {"faiss": {"semsim.search.index", "semsim.search.faiss_arrays"},
               "pymilvus": {"semsim.search.milvus"}, "milvus": {"semsim.search.milvus_server"}}
    for path in MODULES:
        tree = ast.parse(path.read_text())
        used = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        used |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level}
        for lib, modules in allowed.items():
            if lib in used:
                assert module_name(path) in modules, f"{module_name(path)} imports {lib}"


def test_the_checker_sees_an_upward_or_sideways_import():
    assert upward("from ..search.engine import SearchEngine\n", "semsim.text.similarity")
    assert upward("from ..training.bi_encoder import fine_tune\n", "semsim.search.engine")
    assert upward("from semsim.course import doctor\n", "semsim.models.load")
    assert not upward("from ..models.cache import EmbeddingCache\nfrom .vectors import Hit\n", "semsim.search.engine")
