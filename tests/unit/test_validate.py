"""`batchops validate`: offline checks of manifests, proven on the bad-input corpus and the
examples, and driven through the installed command as CI would run it."""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path

import pytest
import yaml

from batchops.validation.catalog import Catalog, load_catalog
from batchops.validation.cel_rules import crd_rules
from batchops.validation.check import validate_sources
from batchops.validation.documents import read_sources
from batchops.validation.problems import Report, Severity
from tests.bad_inputs.corpus import BadInput, load_corpus

REPO = Path(__file__).resolve().parents[2]
BATCHOPS = REPO / ".venv" / "bin" / "batchops"
EXAMPLES = REPO / "manifests" / "examples"
CORPUS = load_corpus()

# CEL rules that compare with `oldSelf` run only on updates: one manifest cannot break them.
TRANSITION_RULES = {
    ("BatchComputeEnvironment", "spec", "name is immutable"),
    ("BatchComputeEnvironment", "spec", "region is immutable"),
    ("BatchJobQueue", "spec", "name is immutable"),
    ("BatchJobQueue", "spec", "region is immutable"),
    ("BatchJobQueue", "spec", "fair-share scheduling policy"),
    ("BatchSchedulingPolicy", "spec", "name is immutable"),
    ("BatchSchedulingPolicy", "spec", "region is immutable"),
    ("BatchConsumableResource", "spec", "name is immutable"),
    ("BatchConsumableResource", "spec", "region is immutable"),
    ("BatchConsumableResource", "spec", "resourceType is fixed"),
    *(
        (kind, "spec.accountRef", "accountRef is immutable")
        for kind in (
            "BatchComputeEnvironment",
            "BatchJobQueue",
            "BatchSchedulingPolicy",
            "BatchConsumableResource",
        )
    ),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def validate(catalog: Catalog, *paths: Path | str) -> Report:
    return validate_sources(read_sources([str(p) for p in paths]), catalog)


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BATCHOPS), "validate", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.path.stem)
def test_every_bad_input_is_reported_as_its_header_says(case: BadInput, catalog: Catalog) -> None:
    report = validate(catalog, case.path)
    errors = [p for p in report.problems if p.severity is Severity.ERROR]
    if case.validate_severity == "silent":  # only the cluster can tell (its namespaces)
        assert report.problems == ()
        return
    if case.validate_severity == "warning":  # the cluster may resolve it (a BatchAccount)
        assert not report.failed
        assert any(case.validate_fragment in p.message for p in report.problems)
        return
    assert report.failed
    # validate evaluates the CRD's own CEL rules: a case of one gets kubectl's very words.
    expected = case.fragment if case.cel_path is not None else case.validate_fragment
    assert any(expected in p.message for p in errors), [p.to_line() for p in errors]
    assert all(p.subject == f"{case.kind}/{case.name}" for p in errors)


def test_every_cel_rule_of_the_crds_has_a_bad_input_that_breaks_it(catalog: Catalog) -> None:
    # The rules as the evaluator finds them (properties, items, map values, allOf), so a rule it
    # evaluates cannot lack a case, nor a case name a rule it does not evaluate.
    uncovered, transition = [], set()
    for resource in catalog.resources.values():
        for rule in crd_rules(resource.schema):
            path, message = rule.schema_path, rule.message or rule.rule
            if rule.transition:
                listed = {
                    t
                    for t in TRANSITION_RULES
                    if t[:2] == (resource.kind, path) and t[2] in message
                }
                if not listed:
                    uncovered.append(
                        f"{resource.kind} {path} (list it in TRANSITION_RULES): {message}"
                    )
                transition |= listed
                continue
            if not any(
                case.kind == resource.kind
                and case.cel_path == path
                and case.outcome == "rejected"
                and case.fragment in message
                for case in CORPUS
            ):
                uncovered.append(f"{resource.kind} {path}: {message}")
    assert uncovered == [], "add a tests/bad_inputs case for each of these CEL rules"
    assert transition == TRANSITION_RULES


def test_corpus_covers_every_kind_and_both_outcomes() -> None:
    kinds = {case.kind for case in CORPUS}
    crd_kinds = {
        yaml.safe_load(path.read_text())["spec"]["names"]["kind"]
        for path in (REPO / "crds").glob("*.yaml")
    }
    assert kinds == crd_kinds
    assert {case.outcome for case in CORPUS} == {"rejected", "failed"}
    assert len({(case.kind, case.name) for case in CORPUS}) == len(CORPUS), "unique names"


def test_examples_are_valid_without_a_single_warning(catalog: Catalog) -> None:
    report = validate(catalog, EXAMPLES)
    assert report.problems == ()
    assert report.objects >= 6 and report.files == len(list(EXAMPLES.glob("*.yaml")))


def test_cli_exits_0_on_the_examples_and_prints_the_summary() -> None:
    result = run_cli(str(EXAMPLES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("0 errors, 0 warnings in ")


def test_cli_points_at_the_file_line_object_and_field_and_exits_1() -> None:
    result = run_cli("tests/bad_inputs/bpl-cycle-of-three.yaml")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    text = Path(REPO, "tests/bad_inputs/bpl-cycle-of-three.yaml").read_text().splitlines()
    dependency_line = next(i for i, line in enumerate(text, 1) if "dependsOn: [c]" in line)
    assert [line for line in lines if ": error: " in line] == [
        f"tests/bad_inputs/bpl-cycle-of-three.yaml:{dependency_line}: error: "
        "BatchPipeline/bpl-cycle-of-three: spec.steps[0].dependsOn: dependency cycle: "
        "a -> c -> b -> a (each step depends on the next)"
    ]
    assert lines[-1].startswith("1 error, 1 warning in 1 file")


def test_a_cel_violation_is_reported_once_in_the_crds_words() -> None:
    # The operator's parser checks this too, in its own words: it never sees an object the API
    # server rejects, so only the rule speaks.
    result = run_cli("tests/bad_inputs/bpl-no-queue.yaml")
    assert result.returncode == 1
    assert [
        line.split(": ", 3)[-1] for line in result.stdout.splitlines() if ": error: " in line
    ] == ["spec: every step needs a queue: set spec.queue, spec.defaults.queue or the step's queue"]


def test_cli_reads_stdin_and_prints_json_for_machines() -> None:
    manifest = Path(REPO, "tests/bad_inputs/bce-max-below-min-vcpus.yaml").read_text()
    result = run_cli("--output", "json", "-", stdin=manifest)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 1 and report["files"] == 1
    (problem,) = report["problems"]
    assert problem["file"] == "<stdin>"
    assert problem["field"] == "spec.computeResources.maxvCpus"
    assert problem["message"] == "maxvCpus must be at least minvCpus"


def test_cli_finds_schema_cel_and_operator_problems_in_one_run() -> None:
    files = ["bpl-zero-vcpus.yaml", "bjq-duplicate-order.yaml", "bpl-cycle-of-three.yaml"]
    result = run_cli(*(f"tests/bad_inputs/{name}" for name in files))
    assert result.returncode == 1
    assert "spec.steps[0].vcpus: should be greater than 0" in result.stdout
    assert "spec.computeEnvironments: order values must be unique" in result.stdout
    assert "dependency cycle: a -> c -> b -> a" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("3 errors, ")


def test_directories_skip_kustomizations_and_count_other_kinds(
    tmp_path: Path, catalog: Catalog
) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [pipeline.yaml]\n")
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "pipeline.yml").write_text(
        (EXAMPLES / "01-walkthrough-infra.yaml").read_text()
        + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n---\n"
    )
    report = validate(catalog, tmp_path)
    assert (report.files, report.objects, report.skipped) == (1, 4, 1)
    assert report.problems == ()


def test_a_missing_queue_is_a_warning_and_does_not_fail(catalog: Catalog) -> None:
    report = validate(catalog, EXAMPLES / "03-walkthrough-pipeline.yaml")
    assert not report.failed
    warnings = {(p.field, p.message.split(" is not")[0]) for p in report.problems}
    assert warnings == {
        ("spec.queue", "BatchJobQueue 'queue-72'"),
        ("spec.steps[1].queue", "BatchJobQueue 'queue-simple'"),
    }


def test_the_same_object_twice_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    pipeline = (EXAMPLES / "03-walkthrough-pipeline.yaml").read_text()
    (tmp_path / "a.yaml").write_text(pipeline)
    (tmp_path / "b.yaml").write_text(pipeline)
    report = validate(catalog, tmp_path)
    (duplicate,) = [p for p in report.problems if p.severity is Severity.ERROR]
    assert duplicate.source == str(tmp_path / "b.yaml")
    assert f"also defined at {tmp_path / 'a.yaml'}:" in duplicate.message


def test_same_name_in_different_namespaces_is_fine(catalog: Catalog, tmp_path: Path) -> None:
    bodies = [yaml.safe_load((EXAMPLES / "03-walkthrough-pipeline.yaml").read_text()) for _ in "ab"]
    for namespace, body in zip("ab", bodies, strict=True):
        body["metadata"]["namespace"] = namespace
    (tmp_path / "two.yaml").write_text(yaml.safe_dump_all(bodies))
    assert not validate(catalog, tmp_path / "two.yaml").failed


def test_a_cycle_in_a_cron_template_is_caught_before_any_run(
    tmp_path: Path, catalog: Catalog
) -> None:
    cron = yaml.safe_load((EXAMPLES / "04-walkthrough-cron.yaml").read_text())
    steps = cron["spec"]["pipelineTemplate"]["spec"]["steps"]
    steps[0]["dependsOn"] = [steps[-1]["name"]]
    (tmp_path / "cron.yaml").write_text(yaml.safe_dump(cron))
    (problem,) = [p for p in validate(catalog, tmp_path).problems if p.severity is Severity.ERROR]
    assert problem.field == "spec.pipelineTemplate.spec.steps[0].dependsOn"
    assert "dependency cycle" in problem.message


def test_broken_yaml_and_unknown_versions_are_errors(tmp_path: Path, catalog: Catalog) -> None:
    (tmp_path / "broken.yaml").write_text("kind: BatchPipeline\n  bad: [indent\n")
    (tmp_path / "future.yaml").write_text(
        "apiVersion: batchops.io/v2\nkind: BatchPipeline\nmetadata: {name: p}\nspec: {}\n"
    )
    messages = [p.to_line() for p in validate(catalog, tmp_path).problems]
    assert len(messages) == 2
    assert "broken.yaml:2: error: invalid YAML" in messages[0]
    assert "no CRD serves batchops.io/v2 BatchPipeline" in messages[1]


def test_the_crds_come_from_package_data_so_an_installed_batchops_has_them() -> None:
    packaged = resources.files("batchops.validation") / "crds"
    names = {entry.name for entry in packaged.iterdir()}
    assert {p.name for p in (REPO / "crds").glob("*.yaml")} <= names
    kinds = {kind for _, kind in load_catalog().resources}
    assert kinds == {
        "BatchAccount",
        "BatchComputeEnvironment",
        "BatchJobQueue",
        "BatchSchedulingPolicy",
        "BatchConsumableResource",
        "BatchPipeline",
        "CronPipeline",
    }


QUEUE_RULE = "every step needs a queue"
IMAGE_RULE = "every step needs a container image"


@pytest.mark.parametrize(
    ("spec", "broken"),
    [
        ({"queue": "q", "image": "i", "steps": [{"name": "a"}, {"name": "b"}]}, None),
        ({"defaults": {"queue": "q", "image": "i"}, "steps": [{"name": "a"}]}, None),
        ({"image": "i", "steps": [{"name": "a", "queue": "q"}, {"name": "b", "queue": "r"}]}, None),
        ({"image": "i", "steps": [{"name": "a", "queue": "q"}, {"name": "b"}]}, QUEUE_RULE),
        ({"defaults": {"image": "i"}, "steps": [{"name": "a"}]}, QUEUE_RULE),
        ({"queue": "q", "defaults": {"jobDefinition": "etl:1"}, "steps": [{"name": "a"}]}, None),
        (
            {
                "queue": "q",
                "steps": [{"name": "a", "image": "i"}, {"name": "b", "jobDefinition": "d"}],
            },
            None,
        ),
        ({"queue": "q", "steps": [{"name": "a", "image": "i"}, {"name": "b"}]}, IMAGE_RULE),
    ],
    ids=[
        "spec-queue",
        "defaults-queue",
        "every-step-queue",
        "one-step-without-queue",
        "no-queue-anywhere",
        "defaults-job-definition",
        "every-step-image-or-definition",
        "one-step-without-image",
    ],
)
def test_queue_and_image_may_come_from_the_spec_the_defaults_or_every_step(
    spec: dict[str, object], broken: str | None, catalog: Catalog, tmp_path: Path
) -> None:
    # The rules read the spec-wide alternatives before looping over the steps (crds/, why).
    manifest = {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": spec,
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(manifest))
    messages = [p.message for p in validate(catalog, path).problems]
    relevant = [m for m in messages if QUEUE_RULE in m or IMAGE_RULE in m]
    assert len(relevant) == (0 if broken is None else 1), messages
    assert broken is None or broken in relevant[0]
