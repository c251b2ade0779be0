"""Argo CD health checks and resource actions for the batchops kinds (manifests/argocd), run the
way Argo CD runs them: Lua 5.1 (gopher-lua's dialect) with only the base, table and package
libraries and an `os` that has nothing but time() and date(), the object in the global `obj`,
and the chunk's return value read back as JSON would read it.

Cases follow Argo CD's own convention (resource_customizations/<group>/<Kind>/health_test.yaml,
actions/action_test.yaml, YAML test data), kept under tests/unit/testdata/argocd/.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

from tests.conftest import CRD_DIR, REPO_ROOT

ARGOCD_DIR = REPO_ROOT / "manifests" / "argocd"
CUSTOMIZATIONS = ARGOCD_DIR / "resource_customizations"
TESTDATA = Path(__file__).parent / "testdata" / "argocd"
EXAMPLES = REPO_ROOT / "manifests" / "examples"

FROZEN_NOW = int(datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC).timestamp())
"""What os.time() and os.date() see in the sandbox, so action outputs are exact."""

ARGO_CD_HEALTH_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}
SYNC_WAVE = "argocd.argoproj.io/sync-wave"


# --- YAML as the API server would hand it over ---------------------------------------------------


class _ApiYamlLoader(yaml.SafeLoader):
    """Timestamps stay strings, as in the JSON Argo CD decodes (SafeLoader makes datetimes)."""


_ApiYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(path: Path) -> Any:
    """One YAML document, timestamps as strings."""
    return yaml.load(path.read_text(), Loader=_ApiYamlLoader)


def load_all_yaml(path: Path) -> list[Any]:
    """Every document of a multi-document YAML file, timestamps as strings."""
    return [d for d in yaml.load_all(path.read_text(), Loader=_ApiYamlLoader) if d]


# --- Argo CD's Lua sandbox ----------------------------------------------------------------------

# Argo CD (util/lua/lua.go) opens only the package, base and table libraries plus its own "safe"
# os with time() and date(); string, math, io and debug are absent, and so are string methods.
_SANDBOX = """
local now = ...
local real_date = os.date
local safe_os = {
  time = function() return now end,
  date = function(format, time) return real_date(format, time or now) end,
}
debug.setmetatable("", nil)
string, math, io, debug, coroutine, python = nil, nil, nil, nil, nil, nil
for _, name in ipairs({"string", "math", "io", "debug", "coroutine"}) do
  package.loaded[name] = nil
end
os = safe_os
package.loaded.os = safe_os
package.path, package.cpath = "", ""
"""


def sandbox() -> Any:
    """A fresh Lua 5.1 state shaped like the one Argo CD gives each script run."""
    lua = lua51.LuaRuntime(register_eval=False, register_builtins=False)
    assert lua.lua_version == (5, 1)
    lua.execute(_SANDBOX, FROZEN_NOW)
    return lua


def to_lua(lua: Any, value: Any) -> Any:
    """A JSON-like Python value as Argo CD's decodeValue builds it: objects become tables with
    string keys, arrays 1-based tables, null is absent."""
    if isinstance(value, Mapping):
        table = lua.table()
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"object key {key!r} is not a string")
            if item is not None:
                table[key] = to_lua(lua, item)
        return table
    if isinstance(value, list):
        table = lua.table()
        for index, item in enumerate(value, start=1):
            if item is None:
                raise TypeError("null inside an array has no Lua table form")
            table[index] = to_lua(lua, item)
        return table
    if isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON")


def from_lua(value: Any, like: Any = None) -> Any:
    """A Lua value back as Argo CD reads it through JSON. An empty table is ambiguous: Argo CD
    encodes it as [] and then restores {} where the live object (`like`) held an object."""
    if lua51.lua_type(value) == "table":
        items = list(value.items())
        if not items:
            return {} if isinstance(like, Mapping) else []
        keys = [key for key, _ in items]
        if all(isinstance(key, str) for key in keys):
            return {
                key: from_lua(item, like.get(key) if isinstance(like, Mapping) else None)
                for key, item in items
            }
        if sorted(keys) == list(range(1, len(keys) + 1)):
            like_items = like if isinstance(like, list) else []
            return [
                from_lua(value[i], like_items[i - 1] if i <= len(like_items) else None)
                for i in range(1, len(keys) + 1)
            ]
        raise ValueError(f"a table with keys {keys!r} is neither a JSON object nor an array")
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Lua 5.1 has only doubles; JSON does not tell 3 from 3.0
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"Lua returned a {lua51.lua_type(value)}, which has no JSON form")


def run_script(script: Path, obj: Mapping[str, Any]) -> Any:
    """Run one health, discovery or action script on `obj`; its return value as JSON."""
    lua = sandbox()
    lua.globals().obj = to_lua(lua, obj)
    return from_lua(lua.execute(script.read_text()), like=obj)


# --- the cases ----------------------------------------------------------------------------------


def _kind_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*") if p.is_dir())


def _script_dir(testdata_kind_dir: Path) -> Path:
    return CUSTOMIZATIONS / testdata_kind_dir.relative_to(TESTDATA)


def _health_cases() -> Iterator[Any]:
    for kind_dir in _kind_dirs(TESTDATA):
        for case in load_yaml(kind_dir / "health_test.yaml")["tests"]:
            case_id = f"{kind_dir.name}/{Path(case['inputPath']).stem}"
            yield pytest.param(kind_dir, case, id=case_id)


def _action_tests(section: str) -> Iterator[Any]:
    for kind_dir in _kind_dirs(TESTDATA):
        test_file = kind_dir / "actions" / "action_test.yaml"
        if not test_file.is_file():
            continue
        for case in load_yaml(test_file)[section]:
            name = f"{case['action']}:" if "action" in case else ""
            case_id = f"{kind_dir.name}/{name}{Path(case['inputPath']).stem}"
            yield pytest.param(kind_dir / "actions", case, id=case_id)


def _action_names(kind: Path) -> set[str]:
    return {p.parent.name for p in (kind / "actions").glob("*/action.lua")}


@pytest.mark.parametrize(("kind_dir", "case"), list(_health_cases()))
def test_health_check_reports_the_expected_status_and_message(
    kind_dir: Path, case: Mapping[str, Any]
) -> None:
    obj = load_yaml(kind_dir / case["inputPath"])
    health = run_script(_script_dir(kind_dir) / "health.lua", obj)
    assert health == case["healthStatus"]
    assert health["status"] in ARGO_CD_HEALTH_STATUSES


@pytest.mark.parametrize(("actions_dir", "case"), list(_action_tests("discoveryTests")))
def test_discovery_offers_every_action_with_the_expected_disabled_flag(
    actions_dir: Path, case: Mapping[str, Any]
) -> None:
    kind = _script_dir(actions_dir.parent)
    offered = run_script(
        kind / "actions" / "discovery.lua", load_yaml(actions_dir / case["inputPath"])
    )
    assert {name: entry.get("disabled", False) for name, entry in offered.items()} == {
        entry["name"]: entry["disabled"] for entry in case["result"]
    }
    assert set(offered) == _action_names(kind), "discovery and the action directories disagree"


@pytest.mark.parametrize(("actions_dir", "case"), list(_action_tests("actionTests")))
def test_action_changes_the_object_exactly_as_expected(
    actions_dir: Path, case: Mapping[str, Any]
) -> None:
    script = _script_dir(actions_dir.parent) / "actions" / case["action"] / "action.lua"
    before = load_yaml(actions_dir / case["inputPath"])
    after = run_script(script, before)
    expected = load_yaml(actions_dir / case["expectedOutputPath"])
    assert _changed_paths(before, after) == _changed_paths(before, expected)
    assert after == expected


def _changed_paths(a: Any, b: Any, path: str = "") -> set[str]:
    """Where two JSON values differ, as /-separated paths (for a readable failure)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return {
            changed
            for key in set(a) | set(b)
            for changed in _changed_paths(a.get(key), b.get(key), f"{path}/{key}")
        }
    return set() if a == b else {path}


def test_run_now_values_differ_from_the_current_and_the_handled_trigger() -> None:
    cron = load_yaml(TESTDATA / "batchops.io/CronPipeline/actions/testdata/cronpipeline.yaml")
    script = CUSTOMIZATIONS / "batchops.io/CronPipeline/actions/run-now/action.lua"
    values = []
    for _ in range(3):  # three clicks within one (frozen) second
        cron = run_script(script, cron)
        values.append(cron["metadata"]["annotations"]["batchops.io/trigger"])
        cron["status"]["lastTrigger"] = values[-1]  # the operator acts on each one
    assert values == ["2026-11-28T10:00:00Z", "2026-11-28T10:00:00Z-2", "2026-11-28T10:00:00Z-3"]


# --- the scripts themselves ---------------------------------------------------------------------


def test_every_batchops_kind_has_a_health_check_with_test_cases() -> None:
    crd_kinds = {
        f"{crd['spec']['group']}/{crd['spec']['names']['kind']}"
        for path in sorted(CRD_DIR.glob("*.yaml"))
        for crd in load_all_yaml(path)
    }
    with_health = {
        str(p.parent.relative_to(CUSTOMIZATIONS)) for p in CUSTOMIZATIONS.glob("*/*/health.lua")
    }
    with_cases = {
        str(p.parent.relative_to(TESTDATA)) for p in TESTDATA.glob("*/*/health_test.yaml")
    }
    assert with_health == crd_kinds
    assert with_cases == crd_kinds


def test_every_action_has_a_test_case() -> None:
    for kind in _kind_dirs(CUSTOMIZATIONS):
        tested = {
            case.values[1]["action"]
            for case in _action_tests("actionTests")
            if _script_dir(case.values[0].parent) == kind
        }
        assert tested == _action_names(kind), kind.name


def test_infrastructure_kinds_share_one_health_script() -> None:
    # One script, kept in BatchComputeEnvironment/; the other kinds' files link to it, so the
    # per-kind layout Argo CD expects holds without copies that could drift apart.
    compute = CUSTOMIZATIONS / "batchops.io/BatchComputeEnvironment/health.lua"
    assert not compute.is_symlink()
    for kind in ("BatchJobQueue", "BatchSchedulingPolicy", "BatchConsumableResource"):
        script = CUSTOMIZATIONS / "batchops.io" / kind / "health.lua"
        assert script.is_symlink() and script.resolve() == compute.resolve(), kind


@pytest.mark.parametrize(
    "script",
    sorted(CUSTOMIZATIONS.rglob("*.lua")),
    ids=lambda p: str(p.relative_to(CUSTOMIZATIONS)),
)
def test_script_compiles_as_lua_5_1(script: Path) -> None:
    # Lua 5.1 has no goto, no // and no bitwise operators: gopher-lua rejects them as well.
    compiled = lua51.LuaRuntime().compile(script.read_text())  # raises LuaSyntaxError
    assert lua51.lua_type(compiled) == "function"


def test_sandbox_offers_only_what_argo_cd_offers() -> None:
    lua = sandbox()
    missing = lua.execute("return string == nil and math == nil and io == nil and debug == nil")
    string_methods, _ = lua.execute('return pcall(function() return ("x"):upper() end)')
    required_os = lua.execute('return require("os").time()')
    assert (missing, string_methods, required_os) == (True, False, FROZEN_NOW)


# --- the generated ConfigMap patch and Helm values ---------------------------------------------


def test_argocd_cm_patch_and_helm_values_are_generated_from_the_scripts() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "hack" / "argocd_cm.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_argocd_cm_patch_holds_each_script_in_argo_cd_format() -> None:
    patch = load_yaml(ARGOCD_DIR / "argocd-cm-patch.yaml")
    assert (patch["kind"], patch["metadata"]["name"]) == ("ConfigMap", "argocd-cm")
    data = patch["data"]
    for kind in _kind_dirs(CUSTOMIZATIONS):
        key = f"{kind.parent.name}_{kind.name}"
        assert data[f"resource.customizations.health.{key}"] == (kind / "health.lua").read_text()
        if (kind / "actions").is_dir():
            actions = yaml.safe_load(data[f"resource.customizations.actions.{key}"])
            assert actions["discovery.lua"] == (kind / "actions/discovery.lua").read_text()
            assert {d["name"]: d["action.lua"] for d in actions["definitions"]} == {
                name: (kind / "actions" / name / "action.lua").read_text()
                for name in _action_names(kind)
            }
    helm_values = load_yaml(ARGOCD_DIR / "helm-values.yaml")
    assert helm_values["configs"]["cm"] == data


# --- sync waves ---------------------------------------------------------------------------------


def test_examples_sync_compute_environments_then_queues_then_pipelines() -> None:
    waves: dict[str, set[int]] = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for obj in load_all_yaml(path):
            wave = int(obj["metadata"].get("annotations", {})[SYNC_WAVE])
            waves.setdefault(obj["kind"], set()).add(wave)
    pipelines = waves.get("BatchPipeline", set()) | waves.get("CronPipeline", set())
    assert min(waves["BatchComputeEnvironment"]) > 0  # after the CRDs, in wave 0
    assert max(waves["BatchComputeEnvironment"]) < min(waves["BatchJobQueue"])
    assert max(waves["BatchJobQueue"]) < min(pipelines)


def test_applications_install_the_operator_before_the_examples() -> None:
    apps = {app["metadata"]["name"]: app for app in load_all_yaml(ARGOCD_DIR / "application.yaml")}
    operator, examples = apps["batchops"], apps["batchops-examples"]
    assert operator["spec"]["source"]["path"] == "manifests/argocd/operator"  # base + peering
    assert examples["spec"]["source"]["path"] == "manifests/examples"
    for app in (operator, examples):
        assert (REPO_ROOT / app["spec"]["source"]["path"]).is_dir()
    assert int(operator["metadata"]["annotations"][SYNC_WAVE]) < int(
        examples["metadata"]["annotations"][SYNC_WAVE]
    )
    # The examples' kinds may not exist yet when Argo CD dry-runs them (first sync).
    assert "SkipDryRunOnMissingResource=true" in examples["spec"]["syncPolicy"]["syncOptions"]
