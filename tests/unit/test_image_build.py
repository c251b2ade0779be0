"""The operator image, checked without a Docker engine.

hadolint lints the Dockerfile; the lock files are compared with a fresh resolution; and the build
stage is replayed instruction by instruction (WORKDIR, COPY as filtered by .dockerignore, RUN,
ENV) in a temporary directory standing in for the image's root, so the exact steps the image
runs must produce a venv in which `batchops run` starts. The replay needs PyPI, as the image
build does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from batchops.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
LOCK_FILES = ("requirements.lock", "requirements-build.lock")
DEPLOYMENT = REPO / "manifests" / "base" / "deployment.yaml"
# Where the python:X.Y images keep the interpreter that `python` finds on their PATH.
BASE_IMAGE_PYTHON = "/usr/local/bin/python"
# Nothing that compiles or installs system packages may reach the final stage.
BUILD_TOOLS = ("gcc", "g++", "clang", "build-essential", "apt-get install", "apk add")


# --- reading the Dockerfile ------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, its continuation lines joined."""

    keyword: str
    arguments: str


@dataclass(frozen=True)
class Stage:
    """One FROM and the instructions under it."""

    base: str
    name: str | None
    instructions: tuple[Instruction, ...]

    def arguments_of(self, keyword: str) -> list[str]:
        """The arguments of every `keyword` instruction, in order."""
        return [i.arguments for i in self.instructions if i.keyword == keyword]


def logical_lines(text: str) -> Iterator[str]:
    """Instructions as single lines: comments dropped, `\\` continuations joined."""
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
        else:
            yield pending + stripped
            pending = ""
    assert not pending, f"the Dockerfile ends inside a continuation: {pending!r}"


def parse_dockerfile(text: str) -> list[Stage]:
    """The stages of a Dockerfile, with global ARG defaults substituted into FROM."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    base, name = "", None
    body: list[Instruction] = []
    for line in logical_lines(text):
        keyword, _, arguments = line.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "ARG" and not base:
            key, _, default = arguments.partition("=")
            global_args[key] = default
        elif keyword == "FROM":
            if base:
                stages.append(Stage(base, name, tuple(body)))
            words = expand(arguments, global_args).split()
            base, name, body = words[0], words[2] if len(words) == 3 else None, []
        else:
            body.append(Instruction(keyword, arguments))
    stages.append(Stage(base, name, tuple(body)))
    return stages


def expand(text: str, variables: Mapping[str, str]) -> str:
    """`$NAME` and `${NAME}` replaced as Docker does (unknown names become empty)."""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), ""), text)


def env_assignments(arguments: str, current: Mapping[str, str]) -> dict[str, str]:
    """The variables one `ENV KEY=VALUE ...` instruction sets, expanded against `current`."""
    assignments = {}
    for word in shlex.split(arguments):
        key, equals, value = word.partition("=")
        assert equals, f"use the ENV KEY=VALUE form: {arguments!r}"
        assignments[key] = expand(value, current)
    return assignments


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


@pytest.fixture(scope="module")
def build(stages: list[Stage], final: Stage) -> Stage:
    """The stage the final one copies from."""
    (copy,) = [a for a in final.arguments_of("COPY") if a.startswith("--from=")]
    source = copy.split()[0].removeprefix("--from=")
    (stage,) = [s for s in stages if s.name == source]
    return stage


# --- the build context ----------------------------------------------------------------------


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def matches(pattern: str, path: str) -> bool:
    """Docker's pattern match: `*` stays within one path segment; `**/` is any directories."""
    if pattern.startswith("**/"):
        tail = pattern.removeprefix("**/")
        assert "/" not in tail, f"the test reads `**/name` patterns only, not {pattern}"
        return fnmatchcase(path.rsplit("/", 1)[-1], tail)
    return path.count("/") == pattern.count("/") and fnmatchcase(path, pattern)


def is_excluded(relative: str, patterns: Iterable[str]) -> bool:
    """Whether Docker leaves `relative` (a path in the context) out: the last pattern matching
    it or one of its parent directories decides, and `!` patterns put paths back."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if any(matches(pattern.removeprefix("!"), prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


# --- replaying the build stage ----------------------------------------------------------------


@dataclass(frozen=True)
class ImageRoot:
    """A directory standing in for the image's `/`, holding the build stage's results."""

    root: Path
    final_env: Mapping[str, str]
    command: tuple[str, ...]

    def run(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run a command of the image with the final stage's environment, from its `/`."""
        return subprocess.run(
            arguments,
            cwd=self.root,
            env=dict(self.final_env),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def files_outside_tmp(self) -> dict[str, tuple[int, int]]:
        """Size and modification time of every file, except under /tmp (the writable mount)."""
        return {
            str(path.relative_to(self.root)): (path.lstat().st_size, path.lstat().st_mtime_ns)
            for path in self.root.rglob("*")
            if not path.is_relative_to(self.root / "tmp")
        }


def relocate(text: str, root: Path) -> str:
    """Absolute paths in `text` (`/venv/bin`, `PATH=/venv/bin:...`) moved under `root`."""
    return re.sub(r"(?<![^\s=:])/(?=\w)", f"{root}/", text)


def clean_environment() -> dict[str, str]:
    """This process's environment (proxies, certificates, pip settings) minus what belongs to
    the Python running the tests."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTHON") and key != "VIRTUAL_ENV"
    }


def copy_into(arguments: str, workdir: Path, root: Path) -> None:
    """One COPY from the build context (the repository) as Docker does it."""
    *sources, destination = shlex.split(arguments)
    assert not any(s.startswith("--") for s in sources), f"the replay takes plain COPY: {arguments}"
    target = (
        root / destination.lstrip("/") if destination.startswith("/") else workdir / destination
    )
    patterns = dockerignore_patterns()

    def ignored(directory: str, names: list[str]) -> set[str]:
        base = Path(directory).relative_to(REPO)
        return {name for name in names if is_excluded((base / name).as_posix(), patterns)}

    for source in sources:
        assert not is_excluded(source, patterns), f".dockerignore leaves out COPY source {source}"
        path = REPO / source
        if path.is_dir():
            shutil.copytree(path, target, symlinks=True, ignore=ignored, dirs_exist_ok=True)
        elif destination.endswith("/") or len(sources) > 1:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def replay(stage: Stage, root: Path, env: dict[str, str]) -> None:
    """Run the stage's instructions against `root`; fail on one the replay cannot honour."""
    workdir = root
    for instruction in stage.instructions:
        arguments = relocate(instruction.arguments, root)
        if instruction.keyword == "WORKDIR":
            workdir = Path(arguments)
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            copy_into(instruction.arguments, workdir, root)
        elif instruction.keyword == "ENV":
            env.update(env_assignments(arguments, env))
        elif instruction.keyword == "RUN":
            # The one liberty taken: pip may use its cache, which changes what is downloaded,
            # not what is installed (every file is still checked against the lock's hashes).
            command = arguments.replace(" --no-cache-dir", "")
            done = subprocess.run(
                ["/bin/sh", "-c", command],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                pytest.fail(f"RUN {command}\nexit {done.returncode}\n{done.stdout}{done.stderr}")
        else:
            pytest.fail(f"the replay does not know {instruction.keyword}; teach it or drop it")


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory, build: Stage, final: Stage) -> ImageRoot:
    """The build stage replayed, with this venv's base interpreter as the image's `python`."""
    root = tmp_path_factory.mktemp("image-root")
    interpreter = root / BASE_IMAGE_PYTHON.lstrip("/")
    interpreter.parent.mkdir(parents=True)
    interpreter.symlink_to(Path(sys.executable).resolve())
    (root / "tmp").mkdir()
    base_env = clean_environment()
    base_env["PATH"] = f"{interpreter.parent}:{base_env['PATH']}"

    replay(build, root, dict(base_env))
    # The final stage shares the root: its COPY --from=build of /venv is already in place.
    final_env = dict(base_env)
    for arguments in final.arguments_of("ENV"):
        final_env.update(env_assignments(relocate(arguments, root), final_env))
    entrypoint = json.loads(final.arguments_of("ENTRYPOINT")[-1])
    return ImageRoot(root, final_env, tuple(entrypoint))


# --- hadolint -------------------------------------------------------------------------------


def test_hadolint_passes() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    done = subprocess.run(
        [str(hadolint), "Dockerfile"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the stages, by reading them ------------------------------------------------------------


def test_both_stages_start_from_the_same_tagged_python_slim_base(
    build: Stage, final: Stage
) -> None:
    # /venv/bin/python is a link to the build stage's interpreter: the final one must have it.
    assert build.base == final.base
    tag = r"python:\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?"
    assert re.fullmatch(tag, final.base), final.base


def test_final_stage_copies_only_the_venv_and_installs_no_build_tools(final: Stage) -> None:
    copies = [a.split() for a in final.arguments_of("COPY")]
    assert copies == [["--from=build", "/venv", "/venv"]]
    for command in final.arguments_of("RUN"):
        assert not [tool for tool in BUILD_TOOLS if tool in command], command


def test_final_stage_runs_as_a_numeric_non_root_user(final: Stage) -> None:
    user = final.arguments_of("USER")[-1]
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user} is not numeric"
    assert all(int(part) != 0 for part in user.split(":")), f"USER {user} is root"


def test_final_stage_writes_no_bytecode_and_has_home_on_tmp(final: Stage) -> None:
    env: dict[str, str] = {}
    for arguments in final.arguments_of("ENV"):
        env.update(env_assignments(arguments, env))
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["HOME"] == "/tmp"


def test_deployment_args_after_the_entrypoint_make_a_run_command(final: Stage) -> None:
    entrypoint = json.loads(final.arguments_of("ENTRYPOINT")[-1])
    default = json.loads(final.arguments_of("CMD")[-1])
    (container,) = yaml.safe_load(DEPLOYMENT.read_text())["spec"]["template"]["spec"]["containers"]
    assert entrypoint == ["batchops"]
    for arguments in (default, container["args"]):
        assert build_parser().parse_args(arguments).command == "run"


# --- the lock files -------------------------------------------------------------------------


def pins(lock: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, sha256 hashes) of every `name==version` requirement in a lock file."""
    text = (REPO / lock).read_text().replace("\\\n", " ")
    found: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)(.*)", line)
        if match:
            name, version, rest = match.groups()
            found[canonicalize_name(name)] = (version, re.findall(r"--hash=sha256:(\w{64})", rest))
    return found


def pyproject() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


@pytest.mark.parametrize(
    ("lock", "table", "key"),
    [
        ("requirements.lock", "project", "dependencies"),
        ("requirements-build.lock", "build-system", "requires"),
    ],
)
def test_lock_pins_each_declared_requirement_within_its_range(
    lock: str, table: str, key: str
) -> None:
    declared = pyproject()[table]
    assert isinstance(declared, dict)
    pinned = pins(lock)
    for text in declared[key]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock} does not pin {name}: run hack/lock.sh"
        assert requirement.specifier.contains(pinned[name][0]), f"{lock}: {text} vs {pinned[name]}"


@pytest.mark.parametrize("lock", LOCK_FILES)
def test_every_pin_carries_a_sha256_hash(lock: str) -> None:
    pinned = pins(lock)
    assert pinned
    assert [name for name, (_, hashes) in pinned.items() if not hashes] == []


def test_locks_target_the_base_image_python(final: Stage) -> None:
    base_version = re.search(r"python:(\d+\.\d+)", final.base)
    assert base_version
    for lock in LOCK_FILES:
        assert f"Python {base_version.group(1)}," in (REPO / lock).read_text(), lock


def test_locks_equal_a_fresh_resolution(tmp_path: Path) -> None:
    # The existing pins are uv's preferences: the output only differs if pyproject.toml, the
    # Dockerfile's Python or the lock files were changed without running hack/lock.sh.
    for lock in LOCK_FILES:
        shutil.copy2(REPO / lock, tmp_path / lock)
    env = {
        **os.environ,
        "LOCK_DIR": str(tmp_path),
        "UV": str(Path(sys.executable).parent / "uv"),
        "PYTHON": sys.executable,
    }
    done = subprocess.run(
        [str(REPO / "hack" / "lock.sh")], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    for lock in LOCK_FILES:
        assert (tmp_path / lock).read_text() == (REPO / lock).read_text(), f"{lock} is stale"


# --- the replayed build ---------------------------------------------------------------------


def test_built_venv_runs_batchops_run_help(image: ImageRoot) -> None:
    done = image.run(*image.command, "run", "--help")
    assert done.returncode == 0, done.stderr
    assert "--peering" in done.stdout
    assert "--metrics-port" in done.stdout
    executable = shutil.which(image.command[0], path=image.final_env["PATH"])
    assert executable
    assert Path(executable).is_relative_to(image.root / "venv")


# Imports every module of the installed package but the local stack (the `local` extra) and the
# `python -m` entry points, and prints where the package was found.
IMPORT_EVERY_MODULE = """
import importlib, pathlib, batchops, batchops.handlers
package = pathlib.Path(batchops.__file__).parent
for path in sorted(package.rglob("*.py")):
    parts = path.relative_to(package.parent).with_suffix("").parts
    if parts[1] != "local" and parts[-1] != "__main__":
        importlib.import_module(".".join(p for p in parts if p != "__init__"))
print(package)
"""


def test_built_venv_imports_every_module_but_the_local_stack(image: ImageRoot) -> None:
    # So every runtime dependency is in [project].dependencies: no extra is installed.
    done = image.run("python", "-c", IMPORT_EVERY_MODULE)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(image.root / "venv")


def test_built_venv_validates_the_examples_with_its_packaged_crds(image: ImageRoot) -> None:
    # The wheel must carry the CRDs: outside a checkout there is nothing else to read.
    done = image.run(*image.command, "validate", str(REPO / "manifests" / "examples"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors" in done.stdout


def test_built_venv_has_no_pip_or_setuptools(image: ImageRoot) -> None:
    done = image.run("python", "-c", "import importlib.util as u; print(u.find_spec('pip'))")
    assert done.stdout.strip() == "None"
    assert not list((image.root / "venv").rglob("setuptools"))


def test_commands_write_nothing_outside_tmp(image: ImageRoot) -> None:
    # A read-only root filesystem with /tmp mounted, as in the Deployment.
    before = image.files_outside_tmp()
    assert before
    assert image.run(*image.command, "run", "--help").returncode == 0
    assert image.run("python", "-c", "import batchops.handlers").returncode == 0
    assert image.files_outside_tmp() == before
