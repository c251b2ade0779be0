"""One test per statement of issue #21 that was wrong in README.md or docs/: each reads the fact
from where it lives (go.mod, the code, a results file, a manifest) and checks what the docs say.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from batchops.commands.run import _peering_priority
from batchops.commands.watch import EXIT_NOT_WATCHED
from batchops.local.stack import DEMO_EXAMPLES, DEMO_NAMESPACE, DEMO_PIPELINE
from tests.docs.markdown import DOCS, REPO, blocks, exchanges
from tests.waits import wait_for

README = (REPO / "README.md").read_text()


def doc(name: str) -> str:
    """The text of docs/<name>."""
    return (REPO / "docs" / name).read_text()


def all_docs() -> str:
    """README.md and every docs/*.md, as one text."""
    return "\n".join(path.read_text() for path in DOCS)


def test_the_go_version_stated_is_the_one_go_mod_requires() -> None:
    go_mod = (REPO / "hack" / "controlplane" / "go.mod").read_text()
    major, minor = re.search(r"^go (\d+)\.(\d+)", go_mod, re.MULTILINE).groups()  # type: ignore[union-attr]
    assert f"Go {major}.{minor}+" in README
    assert "GOTOOLCHAIN=local" in (REPO / "hack" / "controlplane" / "build.sh").read_text()


def test_the_dev_env_idiom_returns_while_dev_keeps_running(tmp_path: Path) -> None:
    """The README's snippet, with a stand-in `batchops dev` that, like the real one, prints its
    exports and `ready` and then keeps stdout open."""
    (snippet,) = [b.text for b in blocks(REPO / "README.md") if "batchops dev >" in b.text]
    fake = tmp_path / "batchops"
    fake.write_text(
        "#!/bin/sh\necho export KUBECONFIG=/tmp/kc\necho export AWS_ENDPOINT_URL=http://x\n"
        "echo ready\nexec sleep 60\n"
    )
    fake.chmod(0o755)
    script = snippet.replace("kubectl get batchops", 'echo "KUBECONFIG=$KUBECONFIG"; kill %1')
    try:
        # The stand-in keeps stdout open for 60 s: an idiom that waits for it never returns.
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env={**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"},
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the idiom blocked on dev's open stdout")
    assert "KUBECONFIG=/tmp/kc" in result.stdout
    assert "ready: command not found" not in result.stderr


def test_the_speed_body_documented_is_the_one_the_emulator_reads() -> None:
    control = (REPO / "operator/batchops/local/emulator/control.py").read_text()
    assert 'body["speed"]' in control
    assert '{"factor"' not in all_docs()
    assert '`{"speed": 20}`' in README


def test_the_tour_transcript_is_what_make_demo_prints() -> None:
    (tour,) = [b for b in blocks(REPO / "README.md")
               if "$ batchops watch bpl/nightly-etl" in b.text.splitlines()]  # fmt: skip
    commands = [exchange.command for exchange in exchanges(tour)]
    name = DEMO_PIPELINE
    assert commands == [
        *(f"kubectl apply -f manifests/examples/{example}" for example in DEMO_EXAMPLES),
        f"batchops watch {name}",
        f"batchops graph {name}",
        "kubectl get batchops",
    ]
    assert f"namespace `{DEMO_NAMESPACE}`" in README


def test_the_emulator_throughput_is_stated_once() -> None:
    figures = re.findall(r"(\d[\d,\u2013-]*) (?:SubmitJob/s|SubmitJob calls/s|calls/s on)", README)
    assert figures == ["788"], figures


def test_the_event_mode_safety_net_interval_is_the_one_the_code_uses() -> None:
    context = (REPO / "operator/batchops/handlers/context.py").read_text()
    assert "max(60.0, self.config.poll_interval * 6)" in context
    assert "max(60 s, 6 \u00d7 the poll\ninterval)" in README
    assert "6\u00d7 the poll interval as a" not in README


def test_every_kubectl_annotate_shown_overwrites() -> None:
    commands = re.findall(r"kubectl annotate[^`\n]*", all_docs())
    assert commands
    assert [c for c in commands if "--overwrite" not in c] == []


def test_argocd_doc_no_longer_says_terminate_is_not_built() -> None:
    text = doc("argocd.md")
    assert "does not have yet" not in text
    assert "What the operator must do" not in text
    pipeline = (REPO / "operator/batchops/reconcile/pipeline.py").read_text()
    assert "RunTerminated" in pipeline and "RunTerminated" in text


def test_install_doc_describes_the_peering_priority_the_operator_uses() -> None:
    first = _peering_priority(None)
    # A replica started later (the clock moved on) ranks lower.
    wait_for(lambda: _peering_priority(None) < first, timeout=1, message="a later start time")
    assert _peering_priority(5) == 5
    text = doc("install.md")
    assert "priority 0" not in text
    assert "start time" in text and "--peering-priority" in text


def test_image_doc_quotes_the_deployments_args() -> None:
    deployment = yaml.safe_load((REPO / "manifests/base/deployment.yaml").read_text())
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert f"`args: [{', '.join(args)}]`" in doc("image.md")


def test_chaos_doc_figures_are_those_of_its_results_file() -> None:
    run = json.loads((REPO / "bench/results/chaos-full.json").read_text())
    restarts = " and ".join(f"{r['restart_seconds']:g} s" for r in run["apiserver_restarts"])
    faults = sum(sum(kinds.values()) for kinds in run["injected_faults"].values())
    throttled = run["injected_faults"].get("SubmitJob", {}).get("throttled", 0)
    phases = run["phases"]
    sentence = (
        f"(seed {run['seed']}, 2 shared cores): {run['kills']} kills "
        f"({run['kills_while_live']} of them on a live operator), "
        f"{len(run['apiserver_restarts'])} API server restarts of {restarts}, "
        f"a {run['faults_seconds']:.0f} s fault window ({faults} throttled or failed Batch "
        f"calls), a {run['outage_seconds']:.0f} s outage; {run['pipelines']} runs "
        f"({phases['Succeeded']} Succeeded, {phases['Failed']} Failed as scripted; "
        f"{run['cron_runs']} of them cron runs), {run['jobs']} Batch jobs from "
        f"{run['batch_calls']['SubmitJob']} SubmitJob calls ({throttled} throttled), no "
        f"duplicate, every run finished {run['converge_seconds']:g} s after the chaos ended."
    )
    assert sentence in doc("chaos.md")
    assert f"seed {run['seed']}" in README


def test_no_doc_installs_batchops_from_pypi() -> None:
    assert re.search(r"pip install batchops(\s|`|$)", all_docs()) is None
    assert "pip wheel --no-deps -w dist ." in " ".join(README.split())


def test_minimum_versions_are_stated_and_match_what_the_manifests_need() -> None:
    admission = list(yaml.safe_load_all((REPO / "manifests/base/admission.yaml").read_text()))
    assert {d["apiVersion"] for d in admission} == {"admissionregistration.k8s.io/v1"}
    for text in (README, doc("install.md")):
        assert "Kubernetes 1.30+" in text and "kubectl 1.31+" in text


def test_namespaces_the_namespaced_overlay_needs_are_created_first() -> None:
    text = doc("install.md")
    section = text[text.index("## Only selected namespaces") :]
    apply = section.index("kubectl apply --server-side -k manifests/overlays/namespaced")
    for name in ("team-a", "team-b"):
        assert section.index(f"kubectl create namespace {name}") < apply
    migrating = doc("migrating-from-terraform.md")
    assert migrating.index("kubectl create namespace etl") < migrating.index("$ kubectl apply")


def test_the_local_extra_and_the_first_build_time_are_stated() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r"^local = \[", pyproject, re.MULTILINE)
    assert "`[local]` extra" in README
    assert "about 8 minutes on 2 cores" in README


def test_the_walkthrough_is_introduced_before_it_is_used() -> None:
    introduced = README.index("**The walkthrough** is")
    assert introduced < README.index("runs the walkthrough example")
    for example in ("01-walkthrough-infra.yaml", "03-walkthrough-pipeline.yaml"):
        assert example in README[introduced : introduced + 1200]


def test_watch_exit_codes_are_documented_as_they_are() -> None:
    assert EXIT_NOT_WATCHED == 3
    assert "| 3 | could not watch" in doc("cli.md")
    assert "3+ could not watch" in README


def test_the_bad_input_count_stated_is_the_corpus_size() -> None:
    corpus = len(list((REPO / "tests" / "bad_inputs").glob("*.yaml")))
    assert f"`tests/bad_inputs/`: {corpus} invalid manifests" in README
