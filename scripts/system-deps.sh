#!/usr/bin/env bash
# Installs the Debian packages IX Stream needs, only those missing.
#   Mesa's EGL + GL drivers: headless rendering on CPUs (llvmpipe) and the GL
#   loader that NVIDIA's EGL plugs into on GPU hosts; Chromium: the real WebRTC
#   client in browser tests; coturn: the TURN server.
set -euo pipefail
packages=(libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri chromium coturn)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the web client's unit tests and type check; keep a newer one if present.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# coturn's package enables a system service on some hosts; tests start their own.
