"""Dependencies point one way (STYLE.md): a forbidden import fails here, with its place.

Every module of ours belongs to exactly one layer below; a module no layer names fails too, so
a new module is placed on purpose. Imports inside functions count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.imports import REPO, imports_of, our_modules, third_party_imports_of

# The core: settings, tables, the database, encryption, queues and the Graph client. Each may
# import the core and `rules` (to validate the `rules:` section), no service.
CORE = (
    "bot.config",
    "bot.models",
    "bot.db",
    "bot.crypto",
    "bot.tasks",
    "bot.graph",
    "bot.migrations",
    "bot.untrusted",  # reading untrusted input (JSON, numbers): pure, for webhooks and views
)
# The domain: what the web views, the jobs and the CLI call.
DOMAIN = (
    "bot.actions",
    "bot.audit",
    "bot.cases",
    "bot.context",
    "bot.crypto_rotate",
    "bot.directory",
    "bot.judging",  # what the rules see of a stored item (the worker, and "why?" on demand)
    "bot.notify",
    "bot.post_check",  # checking the page's own post before it is published
    "bot.preview",  # trying a message on the rules page: findings and drafts, nothing stored
    "bot.photos",  # fetching pictures from Meta's CDN, the consent register
    "bot.privacy",
    "bot.semantic",
    "bot.ticker",
    "bot.training",  # the learned stage's trainer (`haven rules train`)
)
WEB = ("bot.web",)
# The composition roots: the only modules that look "upward" (to the web app, the workers).
ROOTS = ("bot.app", "bot.cli", "bot.demo", "bot.__main__", "bot")

# layer -> (the modules in it, what of ours they may import)
LAYERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rules": (("rules",), ("rules",)),
    "core": (CORE, (*CORE, "rules")),
    "domain": (DOMAIN, (*CORE, *DOMAIN, "rules")),
    "web": (WEB, (*CORE, *DOMAIN, *WEB, "rules")),
    "roots": (ROOTS, (*CORE, *DOMAIN, *WEB, *ROOTS, "rules", "webhooks")),
    # webhooks enqueue by dotted name; they never import workers (STYLE.md).
    "webhooks": (("webhooks",), (*CORE, "bot.context", "webhooks", "rules")),
    "workers": (("workers",), (*CORE, *DOMAIN, "workers", "rules")),
}
# Exceptions, each with its reason. The Graph client is built in one place, the job context.
EXTRA = {"bot.context": ("bot.graph",)}
# Only jobs talk to Meta: nothing else in bot/ may import the Graph client.
GRAPH_USERS = ("bot.graph", "bot.context", "workers")
# Flask (and its extensions) only in the web app: its views, its factory, the webhook
# receiver's blueprint, and `haven serve` (gunicorn in front of create_app).
FLASK = ("flask", "flask_login", "flask_wtf", "werkzeug", "wtforms")
FLASK_USERS = ("bot.web", "bot.app", "bot.cli.server", "webhooks.routes")
# Third-party packages that would make rules/ impure.
RULES_FORBIDDEN = {"flask", "requests", "sqlalchemy", "sqlmodel", "redis", "rq", "psycopg", "os"}
# The queue page never reaches Meta or the rules (it reads what the jobs stored).
WEB_FORBIDDEN = ("bot.graph", "requests", "workers", "webhooks")


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer_of(module: str) -> str | None:
    """The layer a module belongs to: the one naming its longest prefix."""
    best: tuple[int, str] | None = None
    for layer, (members, _) in LAYERS.items():
        for prefix in members:
            # `bot` itself is a root; its subpackages each have their own layer.
            if module == prefix or (prefix != "bot" and module.startswith(prefix + ".")):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), layer)
    return best[1] if best else None


def _where(module: str, line: int) -> str:
    return f"{our_modules()[module].relative_to(REPO).as_posix()}:{line}"


def test_every_module_belongs_to_a_layer() -> None:
    assert [m for m in our_modules() if layer_of(m) is None] == []


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_each_layer_imports_only_what_the_design_allows(layer: str) -> None:
    problems = []
    for module, path in our_modules().items():
        if layer_of(module) != layer:
            continue
        allowed = LAYERS[layer][1] + EXTRA.get(module, ())
        for found in imports_of(path):
            if not _within(found.module, allowed):
                problems.append(f"{_where(module, found.line)} imports {found.module}")
    assert problems == [], "forbidden imports:\n" + "\n".join(problems)


def test_only_jobs_reach_the_graph_client() -> None:
    problems = [
        f"{_where(module, found.line)} imports {found.module}"
        for module, path in our_modules().items()
        if not _within(module, GRAPH_USERS)
        for found in imports_of(path)
        if _within(found.module, ("bot.graph",))
    ]
    assert problems == []


def test_flask_only_in_the_web_app() -> None:
    problems = [
        f"{_where(module, line)} imports {name}"
        for module, path in our_modules().items()
        if not _within(module, FLASK_USERS)
        for line, name in third_party_imports_of(path)
        if name.split(".")[0] in FLASK
    ]
    assert problems == []


def test_rules_stay_pure() -> None:
    problems = [
        f"{_where(module, line)} imports {name}"
        for module, path in our_modules().items()
        if _within(module, ("rules",))
        for line, name in third_party_imports_of(path)
        if name.split(".")[0] in RULES_FORBIDDEN
    ]
    assert problems == []


def test_the_web_never_reaches_meta_or_the_jobs() -> None:
    problems = []
    for module, path in our_modules().items():
        if not _within(module, WEB):
            continue
        names = [(i.line, i.module) for i in imports_of(path)] + third_party_imports_of(path)
        problems += [
            f"{_where(module, ln)} imports {n}" for ln, n in names if _within(n, WEB_FORBIDDEN)
        ]
    assert problems == []


def test_the_queue_page_never_reaches_the_rules() -> None:
    path = our_modules()["bot.web.dashboard.queue"]
    assert [i.module for i in imports_of(path) if _within(i.module, ("rules",))] == []


def test_webhooks_never_import_workers() -> None:
    problems = [
        f"{_where(module, found.line)} imports {found.module}"
        for module, path in our_modules().items()
        if _within(module, ("webhooks",))
        for found in imports_of(path)
        if _within(found.module, ("workers",))
    ]
    assert problems == []


def test_no_module_is_imported_only_for_its_side_effects() -> None:
    """An import kept only for what importing does (`# noqa: F401`) hides a dependency."""
    problems = []
    for module, path in our_modules().items():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "import" in line and "noqa" in line and "F401" in line:
                problems.append(f"{_where(module, number)}: {line.strip()}")
    assert problems == []


def test_the_check_itself_sees_forbidden_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os\nfrom workers.jobs import process_item\n\n"
        "def later():\n    from bot import graph\n",
        encoding="utf-8",
    )
    assert [(i.line, i.module) for i in imports_of(bad)] == [(2, "workers.jobs"), (5, "bot.graph")]
    assert layer_of("bot.web.dashboard.queue") == "web"
    assert layer_of("bot.cli.server") == "roots"
    assert layer_of("bot.graph.client") == "core"
    assert layer_of("bot.something_new") is None
