#!/usr/bin/env bash
# Builds ricci with every test and runs them all through ctest; fails when no test ran.
#   BUILD_DIR (default build), extra CMake flags in RICCI_CMAKE_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
# Force the test options on, whatever an earlier configure (the demo's, say) left in the cache.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRICCI_BUILD_TESTS=ON ${RICCI_CMAKE_FLAGS:-}
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 600 --no-tests=error
