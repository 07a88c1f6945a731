"""No import cycles among our modules, counting imports inside functions (issue 15)."""

from __future__ import annotations

from tests.imports import cycles, import_graph


def test_no_module_of_ours_imports_itself_through_others() -> None:
    assert cycles(import_graph()) == []


def test_the_check_itself_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
