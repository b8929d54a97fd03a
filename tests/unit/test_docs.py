"""The specification lives in the repository: docs/methods.md and docs/extract-schema.md.

A fresh clone must not cite files outside itself, the links between the docs must resolve, and
every citation of a numbered section (`docs/methods.md s.4`) must name a section that exists.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# Written in two parts so this file does not match itself.
OUTSIDE = "../" + "shared"
# Reference notes that were never part of the repository.
OUTSIDE_NAMES = ("continuity-" + "indices.md", "nhs-" + "conventions.md", "stack-" + "notes.md")

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
SECTION_CITE = re.compile(r"docs/(methods|extract-schema)\.md s\.(\d+)")
SECTION_HEADING = re.compile(r"^## (\d+)\. ", re.MULTILINE)


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in out.stdout.decode().split("\0") if name]


def tracked_text() -> dict[str, str]:
    """Relative path -> text of every tracked file that exists and is text."""
    texts = {}
    for path in tracked_files():
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        texts[path.relative_to(ROOT).as_posix()] = data.decode("utf-8", errors="replace")
    return texts


def test_no_tracked_file_cites_notes_outside_the_repository() -> None:
    found = []
    for name, text in tracked_text().items():
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE in line or any(n in line for n in OUTSIDE_NAMES):
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "cite docs/ instead:\n" + "\n".join(found)


def relative_links(markdown: str) -> list[str]:
    """Link targets of a Markdown text that point at files (not web pages or anchors)."""
    prose = INLINE_CODE.sub("", FENCE.sub("", markdown))
    targets = []
    for target in LINK.findall(prose):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue
        targets.append(target.split("#", 1)[0])
    return targets


def test_relative_links_in_docs_and_the_readme_resolve() -> None:
    pages = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
    assert pages, "docs/*.md not found"
    broken = [f"{page.relative_to(ROOT)} -> {target}"
              for page in pages for target in relative_links(page.read_text("utf-8"))
              if not (page.parent / target).exists()]
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_link_finder_reads_markdown_links() -> None:
    text = ("see [a](a.md), [b](../b/c.md#s-2), [web](https://x.org), [top](#top) "
            "and `[code](not-a-link.md)`\n```\n[fenced](nor-this.md)\n```\n")
    assert relative_links(text) == ["a.md", "../b/c.md"]


def test_cited_sections_exist() -> None:
    sections = {doc: set(SECTION_HEADING.findall((DOCS / f"{doc}.md").read_text("utf-8")))
                for doc in ("methods", "extract-schema")}
    assert sections["methods"] and sections["extract-schema"]
    missing = [f"{name}: docs/{doc}.md s.{number}"
               for name, text in tracked_text().items()
               for doc, number in SECTION_CITE.findall(text)
               if number not in sections[doc]]
    assert not missing, "citations of sections that do not exist:\n" + "\n".join(missing)
