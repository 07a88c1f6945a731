"""Dependencies point one way (DESIGN.md): a forbidden import fails here, with its place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OURS = {"bot", "webhooks", "rules", "workers"}
# What each package may import of ours. The composition roots (the app factory, the CLI and
# what only the CLI runs) are the one place allowed to look "upward".
ALLOWED = {
    "rules": set(),
    "bot": {"bot", "rules"},
    "webhooks": {"bot", "rules", "webhooks"},
    "workers": {"bot", "rules", "workers"},
}
COMPOSITION_ROOTS = {
    "bot/app.py": {"webhooks"},
    "bot/cli.py": set(),
}
# Third-party packages that would make rules/ impure, and the dashboard's no-Meta promise.
RULES_FORBIDDEN = {"flask", "requests", "sqlalchemy", "sqlmodel", "redis", "rq", "psycopg", "os"}
DASHBOARD_FORBIDDEN = {"bot.graph", "rules", "requests"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _python_files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_what_the_design_allows(package: str) -> None:
    problems = []
    for path in _python_files(package):
        relative = path.relative_to(REPO).as_posix()
        allowed = ALLOWED[package] | COMPOSITION_ROOTS.get(relative, set())
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in OURS and top not in allowed:
                problems.append(f"{relative}:{line} imports {module}")
    assert problems == [], "forbidden imports:\n" + "\n".join(problems)


def test_rules_stay_pure() -> None:
    problems = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in _python_files("rules")
        for line, module in _imports(path)
        if module.split(".")[0] in RULES_FORBIDDEN
    ]
    assert problems == []


def test_dashboard_never_reaches_meta_or_rules() -> None:
    path = REPO / "bot" / "dashboard.py"
    problems = [
        module
        for _, module in _imports(path)
        if any(module == bad or module.startswith(bad + ".") for bad in DASHBOARD_FORBIDDEN)
    ]
    assert problems == []


def test_the_check_itself_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom workers.jobs import process_item\n", encoding="utf-8")
    assert (2, "workers.jobs") in _imports(bad)
