# syntax=docker/dockerfile:1
# The operator image: `batchops run` (docs/image.md). Multi-stage: the build stage installs the
# hash-checked dependencies of requirements.lock and batchops' own wheel into /venv; the final
# stage copies /venv only, so no build tool reaches it. It runs as a numeric non-root user and
# writes nothing outside /tmp, so it works with a read-only root filesystem.

# One base for both stages: /venv/bin/python links to the base's interpreter. Pinned by tag;
# hack/lock.sh locks for this Python version.
ARG PYTHON_IMAGE=python:3.11-slim-trixie

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# Build tools get their own venv, which stays in this stage. The setuptools that builds
# batchops' wheel is locked too: pip's build isolation would fetch an unpinned one.
COPY requirements-build.lock ./
RUN python -m venv /tools \
 && /tools/bin/pip install --no-cache-dir --require-hashes -r requirements-build.lock
# The runtime venv has no pip or setuptools of its own: the tools' pip installs into it.
# Dependencies come before the source, so a code change reuses this layer.
COPY requirements.lock ./
RUN python -m venv --without-pip /venv \
 && /tools/bin/pip --python /venv/bin/python install --no-cache-dir --require-hashes \
    -r requirements.lock
COPY pyproject.toml README.md ./
COPY operator ./operator
# operator/batchops/validation/crds links here: the wheel ships the CRDs as package data.
COPY crds ./crds
# --no-deps: every dependency came from the lock above, checked against its hash.
RUN /tools/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels . \
 && /tools/bin/pip --python /venv/bin/python install --no-cache-dir --no-deps \
    /wheels/batchops-*.whl

FROM ${PYTHON_IMAGE}
COPY --from=build /venv /venv
# pip compiled every module at install time, so nothing needs to write bytecode at run time.
# HOME=/tmp: the uid has no home directory, and the only cache the libraries may write there
# (botocore's SSO token cache) then lands on the one writable path. Temporary files (the
# Kubernetes client's certificate files) already go to /tmp.
ENV PATH=/venv/bin:$PATH \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
# The Deployment passes `args: [run, ...]`, so the entrypoint is the bare command.
ENTRYPOINT ["batchops"]
CMD ["run"]
