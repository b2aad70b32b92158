"""The package layout is the architecture: a package imports only packages below it.

Every import in engine/, graphs/ and cli.py, including imports inside functions, is checked
against the layer order documented in docs/architecture.md.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import its own package and any package earlier in this list.
LAYERS = [
    "engine.errors",
    "engine.guard",
    "engine.language",
    "engine.checks",
    "engine.compile",
    "engine.evaluate",
    "engine.explain",
    "engine.knowledge",
    "engine.cases",
    "engine.decide",
    "engine.present",
    "graphs",
    "engine.fhir",
    "engine.inputs",
    "engine.authoring",
    "engine.batch",
    "engine.service",
    "engine.cmd",
    "cli",
]
RANK = {name: i for i, name in enumerate(LAYERS)}
TOP = {"engine": -1}  # `engine/__init__.py` re-exports the Program API (evaluate layer)


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in RANK:
            return name
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.append((node.lineno, full if layer_of(full) != layer_of(node.module) else node.module))
    return [(line, name) for line, name in found if name.split(".")[0] in ("engine", "graphs", "cli")]


def sources() -> list[Path]:
    files = [ROOT / "cli.py"]
    for package in ("engine", "graphs"):
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def test_every_module_belongs_to_a_layer():
    orphans = [module_name(p) for p in sources()
               if layer_of(module_name(p)) is None and module_name(p) != "engine"]
    assert orphans == []


def test_imports_point_down():
    wrong = []
    for path in sources():
        here = module_name(path)
        if here == "engine":
            continue
        rank = RANK[layer_of(here)]
        for line, target in imports(path):
            if target == "engine" or target.startswith("engine.__init__"):
                target_rank = RANK["engine.evaluate"]
            else:
                layer = layer_of(target)
                assert layer is not None, f"{path}:{line}: {target} is in no layer"
                target_rank = RANK[layer]
            if target_rank > rank:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {here} ({layer_of(here)}) imports {target}")
    assert wrong == [], "\n".join(wrong)
