#!/usr/bin/env bash
# compile (include/ricci/compile.h) against torch.compile (inductor, CPU) and mx.compile, one thread
# unless a case says otherwise (bench/bench_compile.cpp, bench/compile_peers.py):
#   RESULT <case> ricci_eager=<ms> ricci_compile=<ms> [torch_eager= torch_compile= mlx_eager= mlx_compile=]
#          unit=ms bytes=<bytes read and written once> compile_speedup=<eager/compiled> [vs_torch_compile=<ricci/torch>]
# The bandwidth floor is a copy of the same bytes (clone): compiled / floor says how close a fused
# kernel comes to moving each byte once.
# Usage: bench/run_compile.sh [ricci build dir (default: <repo>/build-bench; configured Release if new)]
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
bench_setup bench_compile "${1:-}"

# RICCI_BENCH_COMPILE_ONLY=gpt runs only the training step below.
if [[ "${RICCI_BENCH_COMPILE_ONLY:-}" != gpt ]]; then
RICCI_JSON="$BUILD/bench_compile.json"
PEERS_OUT="$BUILD/compile_peers.txt"
"$BUILD/bench/bench_compile" --benchmark_format=json --benchmark_min_time="$MIN_TIME" \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true >"$RICCI_JSON"
"$PY" "$ROOT/bench/compile_peers.py" 2>"$BUILD/compile_peers.err" >"$PEERS_OUT" ||
  { cat "$BUILD/compile_peers.err" >&2; echo "run_compile: compile_peers.py failed" >&2; exit 1; }
grep -E '^#' "$PEERS_OUT" || true
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

PYTHONPATH="$ROOT/bench" "$PY" - "$RICCI_JSON" "$PEERS_OUT" <<'PYEOF'
import sys
from gbench_json import aggregates
med, _, errors = aggregates(sys.argv[1], "ms")
for n, msg in errors.items():
    print(f"# ricci {n}: FAILED: {msg}")
peers = {}
for line in open(sys.argv[2]):
    parts = line.split()
    if len(parts) == 3 and parts[0] == "PEER":
        impl, ms = parts[2].split("=")
        peers[(parts[1], impl)] = float(ms)
MB = 2 * 4 * (1 << 24)
cases = [  # case, ricci benchmark stem, bytes, floor benchmark
    ("gelu_16M", "Gelu", MB, "BM_CopyBandwidthFloor"),
    ("gelu_16M_2threads", "Gelu|2T", MB, "BM_CopyBandwidthFloor2T"),
    ("chain20_4M", "Chain20", MB // 4, None),
    ("norm_rows_4096", "NormRows", MB, None),
    ("softmax_rows_4096", "SoftmaxRows", MB, None),
    ("logsumexp_rows_4096", "LogSumExpRows", MB // 2, None),
    ("layer_norm_op_4096", "LayerNormOp", MB, None),
]
for case, stem, nbytes, floor in cases:
    stem, suffix = (stem.split("|") + [""])[:2]
    e, c = med.get(f"BM_{stem}Eager{suffix}"), med.get(f"BM_{stem}Compiled{suffix}")
    if e is None or c is None:
        continue
    fields = [f"ricci_eager={e:.2f}", f"ricci_compile={c:.2f}"]
    interp = med.get(f"BM_{stem}Interpreted{suffix}")  # generated code off (docs/compile.md)
    if interp is not None:
        fields.append(f"ricci_interpreter={interp:.2f}")
    exact = med.get(f"BM_{stem}CompiledExactOps{suffix}")  # the stable rewrites off (docs/compile.md)
    if exact is not None:
        fields.append(f"ricci_compile_exact_ops={exact:.2f}")
    for impl in ("torch_eager", "torch_compile", "mlx_eager", "mlx_compile"):
        if (case, impl) in peers:
            fields.append(f"{impl}={peers[(case, impl)]:.2f}")
    fields += ["unit=ms", f"bytes={nbytes}", f"compile_speedup={e / c:.2f}"]
    if interp is not None:
        fields.append(f"generated_vs_interpreter={interp / c:.2f}")
    if (case, "torch_compile") in peers:
        fields.append(f"vs_torch_compile={c / peers[(case, 'torch_compile')]:.3f}")
    if floor and floor in med:
        fields.append(f"floor={med[floor]:.2f} vs_bandwidth_floor={c / med[floor]:.2f}")
    print(f"RESULT {case} {' '.join(fields)}")
# The hand-written measuring stick for generated code (docs/compile.md, "Interpreter and generated
# code"): the same GELU with every value in registers, one and four vectors per step.
for case, n, e in (("gelu_16M_in_registers", "BM_GeluRegisters", "BM_GeluEager"),
                   ("gelu_16M_in_registers_4_per_step", "BM_GeluRegisters4", "BM_GeluEager"),
                   ("gelu_16M_in_registers_4_per_step_2threads", "BM_GeluRegisters4_2T", "BM_GeluEager2T")):
    c = "BM_GeluCompiled2T" if "2threads" in case else "BM_GeluCompiled"
    if n in med and e in med and c in med:
        print(f"RESULT {case} ricci_registers={med[n]:.2f} ricci_compile={med[c]:.2f} ricci_eager={med[e]:.2f} "
              f"unit=ms vs_eager={med[e] / med[n]:.2f} vs_compile={med[c] / med[n]:.2f}")
for n in med:
    if n.startswith("BM_FirstCallBuildsKernel"):  # fixed iterations: the name carries them
        print(f"RESULT first_call_builds_kernel ricci={med[n]:.1f} unit=ms")
for n, label in (("BM_FirstCallTrace", "first_call_trace"), ("BM_CachedCallTiny", "cached_call_1_element"),
                 ("BM_EagerCallTiny", "eager_call_1_element")):
    if n in med:
        print(f"RESULT {label} ricci={1e3 * med[n]:.2f} unit=us")
PYEOF
fi

# One GPT training step with and without compile (issue 11): examples/gpt --bench N [--compile]
# (the loss and its gradients as one compiled program; AdamW eager) against bench/gpt_torch.py
# [--compile] (torch.compile of the model, inductor), tokens/s, medians of RICCI_BENCH_GPT_RUNS
# (default 3) runs per side taken alternately, at 1 and 2 threads. The first steps (ricci's trace
# and kernel builds, inductor's compilation) are warm-up, not timed.
#   RESULT gpt_train_step_t<n> ricci_eager= ricci_compile= torch_eager= torch_compile= unit=tokens/s
#          compile_speedup=<ricci compiled / eager> vs_torch_compile=<ricci compiled / torch compiled>
if ! grep -q '^RICCI_BUILD_EXAMPLES:BOOL=ON' "$BUILD/CMakeCache.txt"; then
  cmake -S "$ROOT" -B "$BUILD" -DRICCI_BUILD_EXAMPLES=ON >/dev/null
fi
cmake --build "$BUILD" --target gpt >"$BUILD/gpt.build.log" 2>&1 || { echo "run_compile: examples/gpt did not build" >&2; exit 1; }
GPT_STEPS="${RICCI_BENCH_GPT_STEPS:-20}"
GPT_RUNS="${RICCI_BENCH_GPT_RUNS:-3}"
tokens() { sed -n 's/^tokens_per_s=\([0-9.]*\).*/\1/p'; }
for n in 1 2; do
  re="" rc="" te="" tc=""
  for ((k = 0; k < GPT_RUNS; ++k)); do
    env="OMP_NUM_THREADS=$n OPENBLAS_NUM_THREADS=$n MKL_NUM_THREADS=$n RICCI_NUM_THREADS=$n"
    re="$re $(env $env "$BUILD/examples/gpt" --bench "$GPT_STEPS" --threads "$n" 2>/dev/null | tokens)"
    rc="$rc $(env $env "$BUILD/examples/gpt" --bench "$GPT_STEPS" --threads "$n" --compile 2>/dev/null | tokens)"
    te="$te $(env $env "$PY" "$ROOT/bench/gpt_torch.py" --steps "$GPT_STEPS" --threads "$n" 2>/dev/null | tokens)"
    tc="$tc $(env $env "$PY" "$ROOT/bench/gpt_torch.py" --steps "$GPT_STEPS" --threads "$n" --compile 2>/dev/null | tokens)"
  done
  "$PY" - "$n" "$re" "$rc" "$te" "$tc" <<'PYEOF'
import statistics, sys
n = sys.argv[1]
runs = [[float(v) for v in a.split()] for a in sys.argv[2:]]
names = ["ricci_eager", "ricci_compile", "torch_eager", "torch_compile"]
med = {k: statistics.median(r) if r else float("nan") for k, r in zip(names, runs)}
print(f"# gpt_train_step_t{n}: " + ", ".join(f"{k} {min(r):.0f}-{max(r):.0f}" for k, r in zip(names, runs) if r))
print(f"RESULT gpt_train_step_t{n} " + " ".join(f"{k}={med[k]:.0f}" for k in names) +
      f" unit=tokens/s compile_speedup={med['ricci_compile'] / med['ricci_eager']:.3f}"
      f" vs_torch_compile={med['ricci_compile'] / med['torch_compile']:.3f}"
      f" torch_compile_speedup={med['torch_compile'] / med['torch_eager']:.3f}")
PYEOF
done
