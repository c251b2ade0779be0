"""What `validate` and `watch` exit with: a CI step that checked nothing, or a watch that never
saw the run, must not look like success or like a failed run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from batchops.cli import build_parser, main
from batchops.commands.watch import EXIT_FAILED, EXIT_NOT_WATCHED

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "manifests" / "examples"


def nested_examples(root: Path) -> Path:
    """The examples one directory down, as `manifests/` holds them."""
    shutil.copytree(EXAMPLES, root / "nested" / "examples")
    return root


def test_validate_reads_subdirectories_like_kubectl_apply_r(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(EXAMPLES)]) == 0
    direct = capsys.readouterr().out.splitlines()[-1]
    assert main(["validate", str(nested_examples(tmp_path))]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == direct


def test_validate_no_recursive_reads_only_the_directory_and_then_finds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--no-recursive", str(nested_examples(tmp_path))]) == 1
    assert "no batchops object found" in capsys.readouterr().err


def test_validate_fails_when_it_found_no_batchops_object_unless_allowed(tmp_path: Path) -> None:
    (tmp_path / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    )
    assert main(["validate", str(tmp_path)]) == 1
    assert main(["validate", "--allow-empty", str(tmp_path)]) == 0


def test_validate_of_the_whole_manifests_directory_checks_the_examples_and_skips_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Kustomize patches and Helm values found in a directory are not objects: skipped, not errors.
    assert main(["validate", str(REPO / "manifests")]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out


def test_validate_crds_in_a_directory_with_other_yaml_uses_only_the_crds(tmp_path: Path) -> None:
    for crd in (REPO / "crds").glob("*.yaml"):
        shutil.copy(crd, tmp_path)
    shutil.copy(REPO / "manifests" / "base" / "peering-crds.yaml", tmp_path)  # multi-document
    shutil.copy(REPO / "manifests" / "base" / "deployment.yaml", tmp_path)
    assert main(["validate", "--crds", str(tmp_path), str(EXAMPLES)]) == 0


def test_validate_crds_names_the_file_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.yaml").write_text("a: [\n")
    assert main(["validate", "--crds", str(tmp_path), str(EXAMPLES)]) == 2
    assert f"{tmp_path / 'broken.yaml'}: not valid YAML" in capsys.readouterr().err


def test_watch_that_cannot_read_the_kubeconfig_exits_3_not_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["watch", "bpl/nightly-etl", "--kubeconfig", str(tmp_path / "missing")])
    assert code == EXIT_NOT_WATCHED
    assert code != EXIT_FAILED
    assert "kubeconfig" in capsys.readouterr().err


def test_watch_help_documents_every_exit_code() -> None:
    subparsers = build_parser()._subparsers
    assert subparsers is not None
    (action,) = subparsers._group_actions
    choices = getattr(action, "choices", {})
    epilog = choices["watch"].epilog or ""
    for code in ("0 Succeeded", "1 Failed", "2 timeout", "3 could not watch", "4 API server"):
        assert code in epilog
