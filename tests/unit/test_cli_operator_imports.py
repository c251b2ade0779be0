"""What the operator's process loads: `batchops run` shares the CLI's entry point, and what only
the other commands need (terminal rendering, offline validation, the Terraform parser) would sit
in its memory for its whole life."""

from __future__ import annotations

import json
import subprocess
import sys

CLI_ONLY_LIBRARIES = ("rich", "jsonschema", "cel_expr_python", "hcl2", "lark")

PROBE = """
import json, sys
from batchops.cli import main
from batchops.handlers import running  # what `run` imports once it starts the operator
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))
"""


def top_level_modules_after(*argv: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after parsing `argv`."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_the_operator_process_imports_none_of_the_cli_only_libraries() -> None:
    assert top_level_modules_after("run", "--help").isdisjoint(CLI_ONLY_LIBRARIES)


def test_the_other_commands_still_register_with_their_libraries() -> None:
    assert set(CLI_ONLY_LIBRARIES) <= top_level_modules_after("--help")
