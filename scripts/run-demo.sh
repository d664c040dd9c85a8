#!/usr/bin/env bash
# Builds ricci and runs the main demo: a character-level GPT trained on a small public-domain text,
# then the lesson tour. RICCI_DEMO_QUICK=1 trains for a few steps only (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
# The demo needs only the library and the examples; the test options stay as they were configured
# (run-tests.sh turns them on itself), so the two commands work in either order on one build dir.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRICCI_BUILD_EXAMPLES=ON ${RICCI_CMAKE_FLAGS:-}
cmake --build "$build" -j"$(nproc)" --target gpt tour
gpt_args=()
[ "${RICCI_DEMO_QUICK:-0}" = 1 ] && gpt_args+=(--quick)
"$build"/examples/gpt "${gpt_args[@]}"
echo
echo "== The lesson tour =="
"$build"/examples/tour
