# syntax=docker/dockerfile:1.7
# The streamer (one per session, a GPU render pod): CUDA base, NVIDIA's EGL through
# glvnd for headless rendering, and PyAV's FFmpeg, which is built with h264_nvenc (it
# opens when the NVIDIA driver's libnvidia-encode is present and the GPU has NVENC;
# otherwise the streamer falls back to libx264 and says so).
#
#   docker build -f docker/streamer.Dockerfile -t ghcr.io/ixstream/streamer:0.1.0 .
#
# The NVIDIA Container Toolkit injects the driver's user-space libraries at run time
# according to NVIDIA_DRIVER_CAPABILITIES: graphics (libEGL_nvidia, for moderngl on
# EGL), video (libnvidia-encode, for NVENC), compute and utility (nvidia-smi).
# Pin the base images by digest in your registry mirror for reproducible builds.

ARG CUDA_IMAGE=docker.io/nvidia/cuda:12.8.1-base-ubuntu24.04

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${CUDA_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.12 python3.12-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON=/usr/bin/python3.12 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/ixstream
WORKDIR /src
# Dependencies first (cached while only sources change), exactly as locked.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra streamer --no-install-project
COPY ixcli ixcli
COPY ixstream ixstream
COPY streamer streamer
COPY orchestrator orchestrator
COPY clients/python clients/python
RUN uv sync --frozen --no-dev --extra streamer --no-editable

FROM ${CUDA_IMAGE}
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=graphics,video,compute,utility
# glvnd dispatches EGL to NVIDIA's implementation (vendor file below) on a GPU node and
# to Mesa (llvmpipe) without one: the same GL code either way (DESIGN.md §2).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3.12 libglvnd0 libegl1 libgl1 libgles2 libegl-mesa0 libgl1-mesa-dri \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /usr/share/glvnd/egl_vendor.d \
 && printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libEGL_nvidia.so.0"}}\n' \
      > /usr/share/glvnd/egl_vendor.d/10_nvidia.json \
 && groupadd --gid 10001 ixstream \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin ixstream
COPY --from=build /opt/ixstream /opt/ixstream
ENV PATH=/opt/ixstream/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 10001:10001
# 8080: WHEP, control, probes; 9090: /metrics alone (--metrics-port), for Prometheus.
EXPOSE 8080 9090
# The pod passes `stream --host $(POD_IP) --port 8080 --metrics-port 9090 ...` as args (built by the
# orchestrator's backends/streamer_command.py, for both backends); run alone, it streams
# a test on 0.0.0.0:8080.
ENTRYPOINT ["ixstream"]
CMD ["stream", "--host", "0.0.0.0", "--port", "8080"]
