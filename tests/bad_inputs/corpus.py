"""The bad-input corpus: one invalid manifest per file, its expected outcome in a header.

Header lines (YAML comments before the object):
  # expect: rejected "<fragment>"            kubectl apply fails, stderr contains the fragment
  # expect: failed <Reason> "<fragment>"     accepted; the operator sets Stalled=True with this
                                             reason and a message containing the fragment, and
                                             emits a Warning event with the reason
  # cel: <path>                              the CRD CEL rule the file exercises, by schema path
                                             (`(root)` for a rule on the object itself)
  # validate: "<fragment>"                   what `batchops validate` says, when it is worded
                                             differently from the API server or the operator
  # validate: warning "<fragment>"           validate only warns: the problem is a reference
                                             the cluster may resolve (a BatchAccount)
  # validate: silent                         validate cannot see it: it depends on the cluster
                                             (which namespaces exist)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

CORPUS_DIR = Path(__file__).resolve().parent
_EXPECT = re.compile(r'^# expect: (rejected|failed)(?: ([A-Za-z]+))? "(.+)"$', re.M)
_CEL = re.compile(r"^# cel: (\S+)$", re.M)
_VALIDATE = re.compile(r'^# validate: (?:(warning) )?"(.+)"$', re.M)
_SILENT = re.compile(r"^# validate: silent$", re.M)


@dataclass(frozen=True)
class BadInput:
    """One corpus file and what must happen to it."""

    path: Path
    body: dict[str, Any]
    outcome: Literal["rejected", "failed"]
    reason: str | None
    """The condition reason of a `failed` file (InvalidSpec, InvalidSchedule)."""
    fragment: str
    cel_path: str | None
    validate_fragment: str
    validate_severity: Literal["error", "warning", "silent"] = "error"
    """How `batchops validate` reports the file (offline, it cannot see the cluster)."""

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])


def load_corpus() -> list[BadInput]:
    """Every corpus file, sorted by name; a file without a valid header fails loudly."""
    cases = []
    for path in sorted(CORPUS_DIR.glob("*.yaml")):
        text = path.read_text()
        expect = _EXPECT.search(text)
        if expect is None:
            raise AssertionError(f"{path.name}: no '# expect:' header")
        outcome, reason, fragment = expect.groups()
        if (outcome == "failed") != (reason is not None):
            raise AssertionError(f"{path.name}: 'failed' needs a reason, 'rejected' takes none")
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
        if len(documents) != 1:
            raise AssertionError(f"{path.name}: one object per file, found {len(documents)}")
        cel = _CEL.search(text)
        validate = _VALIDATE.search(text)
        severity: Literal["error", "warning", "silent"] = "error"
        if _SILENT.search(text):
            severity = "silent"
        elif validate and validate.group(1):
            severity = "warning"
        cases.append(
            BadInput(
                path=path,
                body=documents[0],
                outcome="rejected" if outcome == "rejected" else "failed",
                reason=reason,
                fragment=fragment,
                cel_path=cel.group(1) if cel else None,
                validate_fragment=validate.group(2) if validate else fragment,
                validate_severity=severity,
            )
        )
    return cases
