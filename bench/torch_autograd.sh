#!/usr/bin/env bash
# Autograd overhead, ricci vs libtorch, side by side on one thread:
#   RESULT <case> ricci=<us/op> torch=<us/op> unit=us/op ratio=<ricci/torch>
# ricci numbers come from bench_autograd (Google Benchmark, JSON); the libtorch program is built
# here, in its own build dir, against the libtorch that ships in the PyPI torch wheel.
# Usage: bench/torch_autograd.sh [ricci build dir (default: build)]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build}" && pwd)"
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
# CPU libraries only: the CUDA wheel's libtorch_cuda needs NCCL and friends from other wheels,
# and these cases never touch a GPU.
foreach(t torch_autograd torch_overhead_instr)
  add_executable(\${t} "$ROOT/bench/\${t}.cpp")
  target_link_libraries(\${t} PRIVATE torch_cpu c10)
  target_include_directories(\${t} PRIVATE \${TORCH_INCLUDE_DIRS})
  set_property(TARGET \${t} PROPERTY CXX_STANDARD 20)
endforeach()
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

# Instructions per op, both sides (RICCI_BENCH_INSTR=1 and valgrind installed): callgrind over
# bench/overhead_instr.cpp and its libtorch twin bench/torch_overhead_instr.cpp, (count at 2N −
# count at N) / N, so start-up and setup cancel. Unlike wall time on a shared machine these do
# not move with the load.
if [[ "${RICCI_BENCH_INSTR:-0}" == 1 ]] && command -v valgrind >/dev/null; then
  lib="$(dirname "$(find "$BUILD" -maxdepth 1 -name 'libricci.so*' | head -1)")"
  g++ -std=c++20 -O3 -DNDEBUG -I"$ROOT/include" "$ROOT/bench/overhead_instr.cpp" -L"$lib" -lricci \
    -Wl,-rpath,"$lib" -o "$WORK/overhead_instr"
  count() {  # program case n -> instructions of the whole run
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" "$3" 2>&1 |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  declare -A PER
  cases="add_tiny_nograd add_tiny_requires_grad add_tiny_no_grad_guard add_tiny_inference_mode mul_backward_tiny scalar_graph_forward scalar_graph_backward scalar_graph_free"
  for c in $cases; do
    n=4000
    [[ $c == mul_backward_tiny ]] && n=1000
    for side in ricci torch; do
      prog="$WORK/overhead_instr"
      [[ $side == torch ]] && prog="$WORK/build/torch_overhead_instr"
      one=$(count "$prog" "$c" "$n")
      two=$(count "$prog" "$c" $((2 * n)))
      PER[$c,$side]=$(((two - one) / n))
    done
  done
  for side in ricci torch; do
    PER[scalar_graph_free,$side]=$((PER[scalar_graph_free,$side] - PER[scalar_graph_backward,$side]))
    PER[scalar_graph_backward,$side]=$((PER[scalar_graph_backward,$side] - PER[scalar_graph_forward,$side]))
  done
  for c in $cases; do
    r=${PER[$c,ricci]} t=${PER[$c,torch]}
    echo "INSTR ${c/scalar_graph_/scalar_graph/}_t1 ricci=$r torch=$t unit=instructions/op ratio=$(awk -v a="$r" -v b="$t" 'BEGIN { printf "%.3f", a / b }')"
  done
fi
