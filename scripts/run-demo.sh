#!/usr/bin/env bash
# Builds ricci and runs the main demo: a character-level GPT trained on a small public-domain text,
# then the lesson tour.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRICCI_BUILD_TESTS=OFF -DRICCI_BUILD_BENCH=OFF
cmake --build "$build" -j"$(nproc)"
"$build"/examples/gpt
echo
echo "== The lesson tour =="
"$build"/examples/tour
