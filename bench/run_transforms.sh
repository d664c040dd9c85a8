#!/usr/bin/env bash
# Function transforms (include/ricci/transforms.h) against PyTorch's torch.func, JAX and MLX, one
# thread, on a small MLP (32 -> 64 tanh -> 10, MSE, batch 64; bench/bench_transforms.cpp):
#   RESULT <case> ricci=<us> torch=<us> [jax=<us> jax_jit=<us>] [mlx=<us>] unit=us ratio_vs_torch=<ricci/torch>
# ricci numbers come from bench_transforms (Google Benchmark, JSON, medians of 5 repetitions); the
# peers from bench/transforms_peers.py (Python: its figures include the interpreter's cost per
# call). A ratio below 1 means ricci is faster than PyTorch. Also prints ricci's grad(f) against
# its own loss.backward() (target: grad <= 1.1x backward), and, with valgrind installed,
# `INSTR <case> ricci=<instructions per call>` lines (bench/transforms_instr.cpp, callgrind).
# Usage: bench/run_transforms.sh [ricci build dir (default: <repo>/build-bench; configured Release if new)]
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
bench_setup bench_transforms "${1:-}"

RICCI_JSON="$BUILD/bench_transforms.json"
PEERS_OUT="$BUILD/transforms_peers.txt"
"$BUILD/bench/bench_transforms" --benchmark_format=json --benchmark_min_time="$MIN_TIME" \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true >"$RICCI_JSON"
"$PY" "$ROOT/bench/transforms_peers.py" 2>"$BUILD/transforms_peers.err" >"$PEERS_OUT" ||
  { cat "$BUILD/transforms_peers.err" >&2; echo "run_transforms: transforms_peers.py failed" >&2; exit 1; }
grep -E '^(# [a-z]+ [0-9]|[a-z]+: not installed)' "$PEERS_OUT" || true
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

PYTHONPATH="$ROOT/bench" "$PY" - "$RICCI_JSON" "$PEERS_OUT" <<'PYEOF'
import sys
from gbench_json import aggregates
med, spread, errors = aggregates(sys.argv[1], "us")
for n, msg in errors.items():
    print(f"# ricci {n}: FAILED: {msg}")
peers = {}
for line in open(sys.argv[2]):
    parts = line.split()
    if len(parts) == 3 and not line.startswith("#"):
        peers[(parts[0], parts[1])] = float(parts[2])
for n in sorted(med):
    print(f"# ricci {n}: median {med[n]:.4g} us, stddev {spread.get(n, 0):.3g} us (5 repetitions)")
cases = [  # case, ricci benchmark
    ("per_example_grads_vmap", "BM_PerExampleGradsVmap"),
    ("per_example_grads_loop", "BM_PerExampleGradsLoop"),
    ("per_example_grads_vmap_row_input", "BM_PerExampleGradsVmapRowInput"),
    ("hvp_jvp_of_grad", "BM_HvpJvpOfGrad"),
    ("grad_transform", "BM_GradTransform"),
    ("eager_backward", "BM_EagerBackward"),
]
for case, bm in cases:
    if bm not in med:
        continue
    fields = [f"ricci={med[bm]:.4g}"]
    torch = peers.get((case, "torch"))
    fields.append(f"torch={torch:.4g}" if torch is not None else "torch=n/a")
    for peer in ("jax", "jax_jit", "mlx"):
        if (case, peer) in peers:
            fields.append(f"{peer}={peers[(case, peer)]:.4g}")
    ratio = f"{med[bm] / torch:.3f}" if torch else "n/a"
    print(f"RESULT {case} {' '.join(fields)} unit=us ratio_vs_torch={ratio}")
if "BM_GradTransform" in med and "BM_EagerBackward" in med:
    r = med["BM_GradTransform"] / med["BM_EagerBackward"]
    print(f"# ricci grad(f) / loss.backward(): {r:.3f} (target <= 1.1: {'met' if r <= 1.1 else 'NOT met'})")
if "BM_PerExampleGradsVmap" in med and "BM_PerExampleGradsLoop" in med:
    print(f"# ricci vmap(grad) / loop of grad: {med['BM_PerExampleGradsVmap'] / med['BM_PerExampleGradsLoop']:.3f}")
PYEOF

# Instructions per call (callgrind; bench/transforms_instr.cpp, (count at 2N - count at N) / N),
# which unlike wall time do not move with what else runs on the machine.
if ! command -v valgrind >/dev/null; then
  echo "# valgrind: not installed; no instruction counts"
  exit 0
fi
lib="$(dirname "$(find "$BUILD" -maxdepth 1 -name 'libricci.so*' | head -1)")"
g++ -std=c++20 -O3 -DNDEBUG -I"$ROOT/include" "$ROOT/bench/transforms_instr.cpp" -L"$lib" -lricci \
  -Wl,-rpath,"$lib" -o "$BUILD/transforms_instr"
instr() {  # case n -> total instructions (Ir) of the run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BUILD/transforms_instr" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
declare -A N=([vmap]=3 [vmap_row]=10 [loop]=3 [hvp]=10 [grad]=20 [backward]=20)
declare -A PER
for c in vmap vmap_row loop hvp grad backward; do
  n=${N[$c]}
  one=$(instr "$c" "$n")
  two=$(instr "$c" $((2 * n)))
  PER[$c]=$(((two - one) / n))
  echo "INSTR $c ricci=${PER[$c]} unit=instructions/call"
done
echo "# instructions: grad / backward = $(awk -v a="${PER[grad]}" -v b="${PER[backward]}" 'BEGIN { printf "%.3f", a / b }')," \
  "vmap / loop = $(awk -v a="${PER[vmap]}" -v b="${PER[loop]}" 'BEGIN { printf "%.3f", a / b }')," \
  "vmap_row / loop = $(awk -v a="${PER[vmap_row]}" -v b="${PER[loop]}" 'BEGIN { printf "%.3f", a / b }')"
