"""Reading manifests: files, directories and stdin, multi-document, each object with its line.

Lines come from PyYAML's node marks, so a problem can point at the field itself rather than at
the start of its document.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from batchops.validation.paths import FieldPath
from batchops.validation.problems import Problem, Severity

STDIN = "-"
_MANIFEST_SUFFIXES = (".yaml", ".yml")
# Build instructions for kustomize, not objects: never read as manifests in a directory.
_KUSTOMIZATION_FILES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})


@dataclass(frozen=True)
class Document:
    """One object of a manifest file."""

    source: str
    line: int
    body: Mapping[str, Any]
    field_lines: Mapping[FieldPath, int]
    found_in_directory: bool = False
    """Read from a file found by walking a directory (not named on the command line)."""

    def line_of(self, path: FieldPath) -> int:
        """The line of `path`, or of its nearest ancestor present in the YAML."""
        for end in range(len(path), 0, -1):
            line = self.field_lines.get(path[:end])
            if line is not None:
                return line
        return self.line


@dataclass(frozen=True)
class Sources:
    """What was read: the objects, the files they came from, and files that could not be read."""

    documents: tuple[Document, ...]
    names: tuple[str, ...]
    """Every file read, in the order read."""
    problems: tuple[Problem, ...]

    @property
    def files(self) -> int:
        """How many files were read."""
        return len(self.names)


def read_sources(arguments: Sequence[str], recursive: bool = True) -> Sources:
    """Read every file named (directories: their *.yaml/*.yml, in subdirectories too unless
    not `recursive`, as `kubectl apply -R`; `-`: stdin)."""
    documents: list[Document] = []
    problems: list[Problem] = []
    names: list[str] = []
    for source, text, walked in _texts(arguments, problems, recursive):
        names.append(source)
        try:
            documents.extend(parse_documents(source, text, walked))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problems.append(Problem(Severity.ERROR, source, line, "", "", f"invalid YAML: {exc}"))
    return Sources(tuple(documents), tuple(names), tuple(problems))


def _texts(
    arguments: Sequence[str], problems: list[Problem], recursive: bool
) -> Iterator[tuple[str, str, bool]]:
    """(name, text, found by walking a directory) of every file the arguments name."""
    for argument in arguments:
        if argument == STDIN:
            yield "<stdin>", sys.stdin.read(), False
            continue
        path = Path(argument)
        walked = path.is_dir()
        if walked:
            candidates = path.rglob("*") if recursive else path.iterdir()
            files = sorted(
                p
                for p in candidates
                if p.is_file()
                and p.suffix in _MANIFEST_SUFFIXES
                and p.name not in _KUSTOMIZATION_FILES
            )
        else:
            files = [path]
        for file in files:
            try:
                yield str(file), file.read_text(encoding="utf-8"), walked
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Problem(Severity.ERROR, str(file), 1, "", "", f"unreadable: {exc}"))


def parse_documents(source: str, text: str, found_in_directory: bool = False) -> list[Document]:
    """Every object in a multi-document YAML text; `kind: List` is unpacked like kubectl does."""
    loader = yaml.SafeLoader(text)
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            body = loader.construct_document(node)
            if body is None:
                continue  # an empty document, e.g. a trailing `---`
            lines: dict[FieldPath, int] = {}
            _index_lines(node, (), lines)
            documents.extend(_objects(source, node, body, lines, found_in_directory))
    finally:
        loader.dispose()
    return documents


def _objects(
    source: str,
    node: yaml.Node,
    body: object,
    lines: Mapping[FieldPath, int],
    found_in_directory: bool,
) -> Iterator[Document]:
    start = node.start_mark.line + 1
    if (
        isinstance(body, Mapping)
        and body.get("kind") == "List"
        and isinstance(body.get("items"), list)
    ):
        for index, item in enumerate(body["items"]):
            prefix: FieldPath = ("items", index)
            item_lines = {path[2:]: line for path, line in lines.items() if path[:2] == prefix}
            yield Document(
                source, lines.get(prefix, start), _mapping(item), item_lines, found_in_directory
            )
        return
    yield Document(source, start, _mapping(body), lines, found_in_directory)


def _mapping(value: object) -> Mapping[str, Any]:
    # A document that is not a mapping is reported by the checks as "not a Kubernetes object".
    return value if isinstance(value, Mapping) else {}


def _index_lines(node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                lines[(*path, key.value)] = key.start_mark.line + 1
                _index_lines(value, (*path, key.value), lines)
                lines[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines)
