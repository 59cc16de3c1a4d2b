#!/usr/bin/env bash
# Installs what the tests need and a fresh Debian machine lacks. Idempotent: installs only what is
# missing. Needs root (or sudo) for apt-get; says exactly what to install otherwise.
set -euo pipefail

need=()
command -v go >/dev/null || { echo "deps: Go 1.26+ is required: https://go.dev/dl/" >&2; exit 1; }
command -v chromium >/dev/null || need+=(chromium)
command -v gcc >/dev/null || need+=(gcc)
command -v pkg-config >/dev/null || need+=(pkg-config)
# cgo codec libraries for the MCU and the gateway (media/vp8, media/audio); sipp for test/e2e/sip_test.go.
for pkg in libvpx-dev libopus-dev libopusfile-dev libyuv-dev sip-tester; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "deps: please install as root: apt-get install -y ${need[*]}" >&2; exit 1
  fi
fi
echo "deps: installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
