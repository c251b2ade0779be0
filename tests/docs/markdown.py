"""Reading README.md and docs/*.md as the tests need them: fenced blocks, console transcripts,
links and the file paths named in backticks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))

_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
# A repository path in backticks: starts with a top-level directory of the repository.
_PATH = re.compile(
    r"`((?:manifests|docs|tests|bench|hack|crds|operator/batchops)/[A-Za-z0-9_./-]*)`"
)


@dataclass(frozen=True)
class Block:
    """One fenced code block."""

    doc: Path
    line: int
    language: str
    text: str


@dataclass(frozen=True)
class Exchange:
    """One `$ command` of a console block and the output shown under it."""

    block: Block
    command: str
    output: str


def blocks(doc: Path) -> list[Block]:
    """Every fenced block of one document, with the line its fence opens on."""
    found: list[Block] = []
    lines = doc.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, language = opening.groups()
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][len(indent) :])
            index += 1
        found.append(Block(doc, index - len(body), language, "\n".join(body)))
        index += 1
    return found


def exchanges(block: Block) -> list[Exchange]:
    """The commands of a console block, each with the lines it printed."""
    result: list[Exchange] = []
    command: str | None = None
    output: list[str] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            if command is not None:
                result.append(Exchange(block, command, "\n".join(output)))
            command, output = line[2:], []
        elif command is not None:
            output.append(line)
    if command is not None:
        result.append(Exchange(block, command, "\n".join(output)))
    return result


def links(doc: Path) -> list[str]:
    """Relative link targets of one document (no URLs, no in-page anchors)."""
    targets: list[str] = _LINK.findall(doc.read_text())
    return [
        t
        for t in targets
        if not re.match(r"[a-z]+:", t) and not t.startswith("#") and not set(t) & set("[*")
    ]


def repository_paths(doc: Path) -> list[str]:
    """Repository paths a document names in backticks, without placeholders or globs."""
    return [
        path
        for path in _PATH.findall(doc.read_text())
        if not any(mark in path for mark in ("<", "*", "..."))
    ]
