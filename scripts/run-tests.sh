#!/usr/bin/env bash
# Builds ricci with every test and runs them all through ctest.
#   BUILD_DIR (default build), extra CMake flags in RICCI_CMAKE_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${RICCI_CMAKE_FLAGS:-}
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 600
