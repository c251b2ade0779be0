"""What `batchops validate` reports: one problem per finding, and the totals of a run."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """An error fails the run; a warning may be fine once the cluster's other objects count."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding, located as precisely as the YAML allows."""

    severity: Severity
    source: str
    line: int
    subject: str
    """`Kind/name` of the object, or empty for a problem with the file itself."""
    field: str
    """Field path such as `spec.steps[1].dependsOn`, or empty for the whole object."""
    message: str

    def to_line(self) -> str:
        """`FILE:LINE: error: Kind/name: field: message`, the shape editors and CI jump to."""
        parts = [f"{self.source}:{self.line}", self.severity.value, self.subject, self.field]
        return ": ".join([part for part in parts if part] + [self.message])


@dataclass(frozen=True)
class Report:
    """Every problem of one run and what was looked at."""

    problems: tuple[Problem, ...]
    files: int
    objects: int
    """batchops objects checked."""
    skipped: int
    """Objects of other kinds, left alone."""

    def count(self, severity: Severity) -> int:
        """How many problems of this severity."""
        return sum(1 for problem in self.problems if problem.severity is severity)

    @property
    def failed(self) -> bool:
        """True when there is at least one error."""
        return self.count(Severity.ERROR) > 0

    def summary(self) -> str:
        """`3 errors, 1 warning in 2 files (5 batchops objects, 1 other skipped)`."""
        errors, warnings = self.count(Severity.ERROR), self.count(Severity.WARNING)
        return (
            f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in "
            f"{_plural(self.files, 'file')} ({_plural(self.objects, 'batchops object')}, "
            f"{self.skipped} other skipped)"
        )

    def to_json(self) -> dict[str, object]:
        """The machine-readable form of `--output json`."""
        return {
            "problems": [
                {
                    "severity": p.severity.value,
                    "file": p.source,
                    "line": p.line,
                    "object": p.subject,
                    "field": p.field,
                    "message": p.message,
                }
                for p in self.problems
            ],
            "errors": self.count(Severity.ERROR),
            "warnings": self.count(Severity.WARNING),
            "files": self.files,
            "objects": self.objects,
            "skipped": self.skipped,
        }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
