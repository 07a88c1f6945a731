"""The README and the guides link to files and sections that exist (docs moved by reader)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Written by other helpers on issue 18 in their branches; linked from the guides already.
PENDING: frozenset[str] = frozenset()
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
_CODE = re.compile(r"```.*?```", re.DOTALL)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_anchor(h) for h in _HEADING.findall(_CODE.sub("", path.read_text(encoding="utf-8")))}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_reaches_a_file_and_section(doc: Path) -> None:
    broken = []
    for target in _LINK.findall(_CODE.sub("", doc.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not ours to check offline
        path_part, _, anchor = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.exists():
            if path.name not in PENDING:
                broken.append(target)
            continue
        if anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(target)
    assert not broken, f"{doc.name}: {broken}"


def test_the_readme_starts_with_the_two_commands_and_leads_to_a_guide_per_reader() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
    for guide in ("guide-staff", "guide-lead", "guide-install", "guide-developers"):
        assert f"(docs/{guide}.md)" in readme
    install = (REPO / "docs" / "guide-install.md").read_text(encoding="utf-8")
    sections = _HEADING.findall(install)
    # Connecting a Page comes first, not after the benchmarks.
    assert sections[1].startswith("Connecting a Facebook Page")
