"""What each of our modules imports of ours, read with `ast` (for the layering and cycle tests).

Every import counts, at the top of a file, inside a function or under `TYPE_CHECKING`: an import
hidden in a function still ties the two modules together.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OURS = ("bot", "webhooks", "rules", "workers")


@dataclass(frozen=True)
class Import:
    line: int
    module: str  # the module imported, resolved to a submodule where one is named


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def our_modules() -> dict[str, Path]:
    """Every module of ours by dotted name (the Alembic revisions are data, not code)."""
    found = {}
    for package in OURS:
        for path in sorted((REPO / package).rglob("*.py")):
            if "versions" in path.relative_to(REPO).parts:
                continue
            found[module_name(path)] = path
    return found


def is_ours(module: str) -> bool:
    return module.split(".")[0] in OURS


def _package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports_of(path: Path) -> list[Import]:
    """Every import of ours in the file, with `from a import b` resolved to `a.b` when b is a
    module of ours."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    known = our_modules()
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, a.name) for a in node.names if is_ours(a.name)]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(path).split(".")
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([base] if base else [])])
            if not is_ours(base):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(node.lineno, sub if sub in known else base))
    return found


def third_party_imports_of(path: Path) -> list[tuple[int, str]]:
    """Every import that is not ours (stdlib or third party), by its dotted name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if not is_ours(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not is_ours(node.module):
                found.append((node.lineno, node.module))
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (only those that exist as modules)."""
    known = our_modules()
    return {
        name: {i.module for i in imports_of(path) if i.module in known and i.module != name}
        for name, path in known.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found
