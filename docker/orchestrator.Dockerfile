# syntax=docker/dockerfile:1.7
# The orchestrator: slim, no GPU, no media stack (it never imports streamer, aiortc or
# av), non-root, and fine on a read-only root filesystem (state under a mounted
# /var/lib/ixstream, temporary files under /tmp).
#
# The sample scenarios ship read-only in /opt/ixstream/share/scenarios. The library
# itself (IXS_ORCH_SCENARIO_DIR) is a writable volume at /var/lib/ixstream/scenarios,
# since instructors upload to it; the Helm chart and k8s/ seed it from the samples with
# an init container running this image's `sh` and `cp` (never overwriting a file).
#
#   docker build -f docker/orchestrator.Dockerfile -t ghcr.io/ixstream/orchestrator:0.1.0 .
#
# Pin the base images by digest in your registry mirror for reproducible builds.

ARG PYTHON_IMAGE=docker.io/library/python:3.11.14-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/ixstream
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra orchestrator --no-install-project
COPY ixcli ixcli
COPY ixstream ixstream
COPY orchestrator orchestrator
COPY streamer streamer
COPY clients/python clients/python
RUN uv sync --frozen --no-dev --extra orchestrator --no-editable

FROM ${PYTHON_IMAGE}
RUN groupadd --gid 10001 ixstream \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin ixstream
COPY --from=build /opt/ixstream /opt/ixstream
# Root-owned, so read-only to the user the image runs as.
COPY scenarios/*.yaml /opt/ixstream/share/scenarios/
ENV PATH=/opt/ixstream/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    IXS_ORCH_SCENARIO_DIR=/var/lib/ixstream/scenarios
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["python", "-m", "orchestrator"]
CMD ["up", "--host", "0.0.0.0", "--port", "8000"]
