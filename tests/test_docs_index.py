"""docs/README.md indexes every page of docs/, and the README points at the architecture first."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def test_the_docs_index_links_every_page_once() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\(([^)#]+\.md)\)", index)
    pages = sorted(p.name for p in DOCS.glob("*.md") if p.name != "README.md")
    assert sorted(linked) == pages
    assert linked[0] == "architecture.md"


def test_the_readme_links_the_architecture_before_any_other_doc() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    docs = re.findall(r"docs/[a-z-]+\.md", readme)
    assert docs and docs[0] == "docs/architecture.md"
