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
# The Python package (python/, ctest python_tests): nanobind and scikit-build-core to build it,
# pytest, hypothesis and numpy to test it. Optional: without them the Python parts are skipped.
if command -v python3 >/dev/null 2>&1; then
  if ! python3 -c "import nanobind, pytest, hypothesis, numpy" >/dev/null 2>&1; then
    python3 -m pip install --quiet nanobind scikit-build-core pytest hypothesis numpy >/dev/null 2>&1 ||
      echo "warning: pip could not install nanobind/pytest/hypothesis/numpy; the Python module and its tests are skipped" >&2
  fi
else
  echo "warning: no python3; the Python module and its tests are skipped" >&2
fi
