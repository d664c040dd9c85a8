#!/usr/bin/env bash
# Installs the Debian packages ricci builds with (skips apt when they are all present already).
set -euo pipefail
packages=(cmake ninja-build g++ ccache libopenblas-dev libhwy-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev graphviz)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
