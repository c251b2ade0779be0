#!/usr/bin/env bash
# Regenerates the image's lock files from pyproject.toml (see docs/image.md):
#   requirements.lock        [project].dependencies: what `batchops run` needs (no extras)
#   requirements-build.lock  [build-system].requires: the setuptools that builds batchops' wheel
# Each is one universal resolution (the same pins on linux x86_64 and aarch64) for the Python of
# the Dockerfile's base image, wheels only (the build stage has no compiler), with the sha256 of
# every wheel so that pip installs them with --require-hashes.
# Pins already in a lock file are kept while they still satisfy pyproject.toml; extra arguments
# go to `uv pip compile`: `hack/lock.sh --upgrade`, `hack/lock.sh --upgrade-package boto3`.
# LOCK_DIR=<dir> writes the files there instead (the freshness test compares them).
set -euo pipefail
cd "$(dirname "$0")/.."
lock_dir=${LOCK_DIR:-.}
uv=${UV:-.venv/bin/uv}
python=${PYTHON:-.venv/bin/python}

# The Dockerfile names the base image once; lock for its Python so the wheels fit it.
python_version=$(sed -n 's/^ARG PYTHON_IMAGE=python:\([0-9]*\.[0-9]*\)-.*/\1/p' Dockerfile)
if [ -z "$python_version" ]; then
  echo "hack/lock.sh: no 'ARG PYTHON_IMAGE=python:X.Y-...' line in Dockerfile" >&2
  exit 1
fi

# compile OUTPUT DESCRIPTION INPUT [uv options...]: resolve INPUT (a file, or - for stdin) into
# OUTPUT under our header.
compile() {
  local output=$1 description=$2 input=$3
  shift 3
  "$uv" pip compile "$input" --output-file "$output" --quiet --no-header \
    --universal --python-version "$python_version" --only-binary :all: --emit-build-options \
    --generate-hashes "$@"
  {
    echo "# $description, pinned with hashes for the image"
    echo "# (Dockerfile): Python $python_version, wheels only," \
      "one resolution for linux x86_64 and aarch64."
    echo "# Generated from pyproject.toml; regenerate with: hack/lock.sh"
    cat "$output"
  } >"$output.tmp"
  mv "$output.tmp" "$output"
}

compile "$lock_dir/requirements.lock" "What batchops runs on ([project].dependencies)" \
  pyproject.toml "$@"

# Read from stdin, so the generated file names no temporary input file.
build_requires='import sys, tomllib
print(*tomllib.load(sys.stdin.buffer)["build-system"]["requires"], sep="\n")'
"$python" -c "$build_requires" <pyproject.toml |
  compile "$lock_dir/requirements-build.lock" \
    "What builds the batchops wheel ([build-system].requires)" - "$@"
