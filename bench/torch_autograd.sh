#!/usr/bin/env bash
# Autograd overhead, ricci vs libtorch, side by side on one thread:
#   RESULT <case> ricci=<us/op> torch=<us/op> unit=us/op ratio=<ricci/torch>
# ricci numbers come from bench_autograd (Google Benchmark, JSON); the libtorch program is built
# here, in its own build dir, against the libtorch that ships in the PyPI torch wheel.
# Usage: bench/torch_autograd.sh [ricci build dir (default: build)]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
WORK="${TORCH_BENCH_DIR:-$BUILD/torch_autograd}"
PY="${PYTHON:-python3}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 RICCI_NUM_THREADS=1

TORCH_PREFIX="$("$PY" -c 'import torch;print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)"
TORCH_VERSION="$("$PY" -c 'import torch;print(torch.__version__)' 2>/dev/null || true)"
if [[ -z "$TORCH_PREFIX" ]]; then
  echo "torch_autograd: no torch for $PY (pip install torch); cannot compare" >&2
  exit 1
fi

cmake --build "$BUILD" -j2 --target bench_autograd >/dev/null
RICCI_JSON="$WORK/ricci.json"
mkdir -p "$WORK/src"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BUILD/bench/bench_autograd" --benchmark_format=json \
  --benchmark_min_time=0.2 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true >"$RICCI_JSON"

cat >"$WORK/src/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.21)
project(torch_autograd_bench LANGUAGES CXX)
find_package(Torch REQUIRED)
add_executable(torch_autograd "$ROOT/bench/torch_autograd.cpp")
# CPU libraries only: the CUDA wheel's libtorch_cuda needs NCCL and friends from other wheels,
# and these cases never touch a GPU.
target_link_libraries(torch_autograd PRIVATE torch_cpu c10)
target_include_directories(torch_autograd PRIVATE \${TORCH_INCLUDE_DIRS})
set_property(TARGET torch_autograd PROPERTY CXX_STANDARD 20)
CMAKE
cmake -S "$WORK/src" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" >"$WORK/configure.log" 2>&1 ||
  { tail -20 "$WORK/configure.log" >&2; exit 1; }
cmake --build "$WORK/build" -j2 >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; exit 1; }
TORCH_OUT="$WORK/torch.txt"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$WORK/build/torch_autograd" >"$TORCH_OUT"

echo "# peer: PyTorch $TORCH_VERSION (PyPI wheel's libtorch), 1 thread"
"$PY" - "$RICCI_JSON" "$TORCH_OUT" <<'PYEOF'
import json, sys
ricci = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    name = b["run_name"].replace("/manual_time", "")
    if "per_op" in b:  # scalar graph: seconds per op
        ricci[name] = b["per_op"] * 1e6
    else:
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
        ricci[name] = b["real_time"] * scale
for line in open(sys.argv[2]):
    case, value = line.split()
    t = float(value)
    r = ricci.get(case)
    if r is None:
        continue
    print(f"RESULT {case}_t1 ricci={r:.4f} torch={t:.4f} unit=us/op ratio={r / t:.3f}")
PYEOF
