"""Haven's URL rules share their builders across apps (bot/web/url_rules.py) and still build
exactly the URLs Werkzeug's own rules build."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import Map, Rule
from werkzeug.routing.converters import AnyConverter, NumberConverter

from bot.app import create_app
from bot.config import Settings
from bot.web.url_rules import SharedBuilderRule


def _sample(rule: Rule) -> dict[str, object]:
    """A value for each of the rule's arguments, of the kind its converter takes."""
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, NumberConverter):
            values[name] = 7
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "x-1"
    return values


def test_every_rule_builds_what_werkzeug_builds(app: Flask) -> None:
    rules = list(app.url_map.iter_rules())
    assert rules and all(isinstance(r, SharedBuilderRule) for r in rules)
    plain = Map(
        [Rule(r.rule, endpoint=r.endpoint, methods=r.methods) for r in rules],
        converters=app.url_map.converters,
    ).bind("haven.example")
    ours = app.url_map.bind("haven.example")
    for rule in rules:
        values = _sample(rule)
        for extra in ({}, {"page": 2, "q": "a b"}):
            built = ours.build(rule.endpoint, {**values, **extra}, method=sorted(rule.methods)[0])
            expected = plain.build(
                rule.endpoint, {**values, **extra}, method=sorted(rule.methods)[0]
            )
            assert built == expected, rule.rule


def test_a_second_app_reuses_the_first_apps_builders(app: Flask, settings: Settings) -> None:
    other = create_app(settings)
    ours = {r.rule: r for r in app.url_map.iter_rules()}
    theirs = {r.rule: r for r in other.url_map.iter_rules()}
    assert ours.keys() == theirs.keys()
    for path, rule in ours.items():
        assert rule._build.__func__ is theirs[path]._build.__func__  # type: ignore[attr-defined]
        assert rule._build_unknown.__func__ is theirs[path]._build_unknown.__func__  # type: ignore[attr-defined]
    # Templates likewise: both apps' Jinja environments keep their compiled code in one place.
    assert app.jinja_env.bytecode_cache is other.jinja_env.bytecode_cache is not None
    other.extensions["haven"].engine.dispose()
