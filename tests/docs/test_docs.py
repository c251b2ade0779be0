"""The docs as tests: every console transcript of an offline command is run and compared, every
relative link and repository path resolves, every flag shown exists in `--help`, and every
annotation, metric and condition reason named exists in the code or the CRDs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from functools import cache
from pathlib import Path

import pytest

from tests.docs.markdown import DOCS, REPO, Exchange, blocks, exchanges, links, repository_paths

BIN = REPO / ".venv" / "bin"
# Commands whose output depends only on files in this repository.
OFFLINE = (
    ("batchops", "validate"),
    ("batchops", "graph"),
    ("kubectl", "batchops", "graph"),
    # From an object saved with `kubectl get -o yaml`: a finished run's chart is fixed.
    ("batchops", "timeline"),
)
CODE = REPO / "operator" / "batchops"


def offline(exchange: Exchange) -> bool:
    """True for a command of OFFLINE whose file arguments all exist here."""
    words = shlex.split(exchange.command, comments=True)
    if not any(tuple(words[: len(prefix)]) == prefix for prefix in OFFLINE):
        return False
    files = [w for w in words if w.endswith((".yaml", ".yml", "/"))]
    return bool(files) and all((REPO / f).exists() for f in files)


def offline_exchanges() -> list[tuple[Exchange, Exchange | None]]:
    """Each offline exchange, with the `echo $?` right after it, if any."""
    found: list[tuple[Exchange, Exchange | None]] = []
    for doc in DOCS:
        for block in blocks(doc):
            if block.language != "console":
                continue
            shown = exchanges(block)
            for index, exchange in enumerate(shown):
                if offline(exchange):
                    after = shown[index + 1] if index + 1 < len(shown) else None
                    status = after if after and after.command == "echo $?" else None
                    found.append((exchange, status))
    return found


def run_as_shown(command: str) -> subprocess.CompletedProcess[str]:
    """Run a documented command from the repository root, with the venv's batchops first."""
    words = shlex.split(command, comments=True)
    if words[:2] == ["kubectl", "batchops"]:
        words = ["kubectl-batchops", *words[2:]]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(words, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


TRANSCRIPTS = offline_exchanges()


def test_the_docs_have_offline_transcripts_to_check() -> None:
    assert len(TRANSCRIPTS) >= 8


@pytest.mark.parametrize(
    ("exchange", "status"),
    TRANSCRIPTS,
    ids=[f"{e.block.doc.name}:{e.block.line}:{e.command[:40]}" for e, _ in TRANSCRIPTS],
)
def test_console_transcript_shows_the_real_output(
    exchange: Exchange, status: Exchange | None
) -> None:
    result = run_as_shown(exchange.command)
    assert result.stdout.rstrip("\n") == exchange.output.rstrip("\n"), (
        f"{exchange.block.doc.name}:{exchange.block.line}: `{exchange.command}` prints:\n"
        f"{result.stdout}{result.stderr}"
    )
    if status is not None:
        assert str(result.returncode) == status.output.strip()


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_relative_link_and_repository_path_resolves(doc: Path) -> None:
    missing = [
        target for target in links(doc) if not (doc.parent / target.partition("#")[0]).exists()
    ]
    missing += [path for path in repository_paths(doc) if not (REPO / path).exists()]
    assert missing == [], f"{doc.name} names what does not exist"


@cache
def help_text(subcommand: str) -> str:
    """`batchops <subcommand> --help`."""
    result = run_as_shown(f"batchops {subcommand} --help")
    assert result.returncode == 0, result.stderr
    return result.stdout


_COMMAND = re.compile(r"(?:^|[\s`$(])batchops ([a-z]+)((?: [^`\n|#]*)?)")
SUBCOMMANDS = ("run", "dev", "demo", "emulator", "validate", "graph", "watch", "timeline", "logs",
               "trigger", "rerun", "retry", "backfill", "usage", "import", "doctor")  # fmt: skip


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_flag_shown_for_a_batchops_command_exists_in_its_help(doc: Path) -> None:
    unknown: list[str] = []
    for subcommand, rest in _COMMAND.findall(doc.read_text()):
        if subcommand not in SUBCOMMANDS:
            continue
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
            if flag not in help_text(subcommand):
                unknown.append(f"batchops {subcommand} {flag}")
    assert unknown == [], f"{doc.name} shows flags that do not exist"


@cache
def source_text() -> str:
    """The operator's code, the CRDs and the Argo CD scripts, as one text to search."""
    parts = [p.read_text() for p in CODE.rglob("*.py")]
    parts += [p.read_text() for p in (REPO / "crds").glob("*.yaml")]
    parts += [p.read_text() for p in (REPO / "manifests" / "argocd").rglob("*.lua")]
    return "\n".join(parts)


def named_in_docs(pattern: str) -> set[str]:
    """Every match of `pattern` over README.md and docs/."""
    return {match for doc in DOCS for match in re.findall(pattern, doc.read_text())}


def test_every_annotation_named_in_the_docs_exists_in_the_code() -> None:
    annotations = named_in_docs(r"batchops\.io/([a-z][a-z-]+)=") | named_in_docs(
        r"`batchops\.io/([a-z][a-z-]+)`"
    )
    assert {"rerun", "trigger", "terminate"} <= annotations
    missing = {a for a in annotations if f"batchops.io/{a}" not in source_text()}
    assert missing == set()


def test_every_metric_named_in_the_docs_exists_in_the_code() -> None:
    metrics = named_in_docs(r"`(batchops_[a-z_]+)")
    assert len(metrics) >= 5
    code = (CODE / "metrics.py").read_text()
    # prometheus-client adds `_total` to counters itself.
    missing = {m for m in metrics if m.removesuffix("_total") not in code}
    assert missing == set()


def test_every_condition_reason_in_the_readme_table_exists_in_the_code() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("| reason | on |") :].split("\n\n")[0]
    reasons = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)?", table, re.MULTILINE))
    names = {name for pair in reasons for name in pair if name}
    assert len(names) >= 10
    missing = {name for name in names if f'"{name}"' not in source_text()}
    assert missing == set()


def test_every_printer_column_shown_exists_in_the_crds() -> None:
    crds = "\n".join(p.read_text() for p in (REPO / "crds").glob("*.yaml"))
    columns = set(re.findall(r"name: ([A-Za-z-]+)\n\s+type:", crds))
    readme = (REPO / "README.md").read_text()
    headers = {
        word
        for line in readme.splitlines()
        if line.startswith("NAME  ")
        for word in line.split()[1:]
        if word != "AGE"
    }
    assert headers, "the README shows `kubectl get` output"
    assert {h for h in headers if h.upper() not in {c.upper() for c in columns}} == set()
