"""The README is for people: what bedside is, its Quick start, then what a maker needs in the
order they need it; how it is built, tested and measured lives in docs/, linked. Every link of
the README and docs/ leads somewhere, and every test the reliability table names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")

# What a maker needs, in the order they need it (issue 20, item 19).
ORDER = [
    "## Quick start",
    "## The routines",
    "## The button",
    "## On the Raspberry Pi",
    "### Wiring",
    "### Install",
    "## Configuration",
    "## The voice",
]
# Engineering detail, each in its own page under docs/. (The formats other programs read,
# plan --json and simulate's, stay in the README's Commands: DESIGN.md keeps contracts there.)
MOVED = {
    "## Reliability": "docs/reliability.md",
    "## Performance": "docs/performance.md",
    "### Where it is tested": "docs/testing.md",
}


def headings(path: Path) -> list[str]:
    """The headings of a Markdown file, outside code blocks."""
    found, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            found.append(line)
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation gone, spaces to hyphens."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def test_the_readme_leads_with_what_a_maker_needs_in_order() -> None:
    found = headings(README)
    places = [found.index(heading) for heading in ORDER]
    assert places == sorted(places), [found[i] for i in places]
    text = README.read_text(encoding="utf-8")
    assert text.index("![") < text.index("## Quick start")  # one picture of the panel first


def test_the_quick_start_is_the_first_code_block_and_begins_with_make_demo_and_make_test() -> None:
    text = README.read_text(encoding="utf-8")
    first = text.index("```")
    assert text.rindex("## ", 0, first) == text.index("## Quick start")
    block = text[first:].split("\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands[:2] == ["make demo", "make test"]


def test_engineering_detail_lives_in_docs_and_is_linked() -> None:
    found = headings(README)
    text = README.read_text(encoding="utf-8")
    for heading, page in MOVED.items():
        assert heading not in found, f"{heading} belongs in {page}"
        assert heading.lstrip("#").strip() in (
            h.lstrip("#").strip() for h in headings(ROOT / page)
        ) or (ROOT / page).read_text(encoding="utf-8").startswith(f"# {heading.lstrip('# ')}")
        assert f"]({page}" in text, f"the README does not link {page}"
    assert "| figure |" not in text  # the bench's tables are in docs/performance.md


def test_every_link_of_the_readme_and_the_docs_leads_somewhere() -> None:
    broken = []
    for page in [README, *DOCS]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            file, _, anchor = target.partition("#")
            where = (page.parent / file).resolve() if file else page
            if not where.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif (
                anchor
                and where.suffix == ".md"
                and anchor not in {slug(h) for h in headings(where)}
            ):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def test_every_test_the_reliability_table_names_exists() -> None:
    table = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)`", table))
    assert len(named) >= 10
    files = {path.stem for path in (ROOT / "tests").rglob("test_*.py")}  # make test-vm's too
    missing = sorted(name for name in named if name not in files)
    assert not missing, missing
