"""The docs a newcomer reads live in the repository: every relative link in README.md and docs/ resolves inside it."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")

pytestmark = pytest.mark.django_db(transaction=False)


def _relative_links(doc: Path) -> list[str]:
    return [t for t in LINK.findall(doc.read_text()) if not re.match(r"^[a-z]+:|^#", t)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(doc):
    for target in _relative_links(doc):
        resolved = (doc.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{doc.name} links {target}, outside the repository"
        assert resolved.exists(), f"{doc.name} links {target}, which does not exist"


def test_nothing_points_at_notes_outside_the_clone():
    for doc in DOCS:
        assert "../shared" not in doc.read_text(), f"{doc.name} refers to ../shared, which a clone does not have"


def test_the_docs_the_readme_promises_exist():
    linked = {Path(t).name for t in _relative_links(ROOT / "README.md")}
    assert {"architecture.md", "trust.md"} <= linked
