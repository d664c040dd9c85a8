#!/usr/bin/env bash
# Lazy evaluation against eager ricci, PyTorch eager and MLX (lazy), one thread:
#   RESULT <case> ricci_eager=<us> ricci_lazy=<us> torch=<us> [mlx=<us>] unit=us ratio_lazy_vs_torch=<lazy/torch>
# ricci numbers come from bench_lazy (Google Benchmark, JSON, medians of 5 repetitions); the peers
# from bench/lazy_peers.py (Python: its figures include the interpreter's cost per call, printed
# as `python_loop`). A ratio below 1 means ricci's lazy path is faster than PyTorch.
# Usage: bench/run_lazy.sh [ricci build dir (default: <repo>/build-bench; configured Release if new)]
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
bench_setup bench_lazy "${1:-}"

RICCI_JSON="$BUILD/bench_lazy.json"
PEERS_OUT="$BUILD/lazy_peers.txt"
"$BUILD/bench/bench_lazy" --benchmark_format=json --benchmark_min_time="$MIN_TIME" \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true >"$RICCI_JSON"
"$PY" "$ROOT/bench/lazy_peers.py" >"$PEERS_OUT" || { echo "run_lazy: lazy_peers.py failed" >&2; exit 1; }
grep -E '^(#|mlx:)' "$PEERS_OUT" || true
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

PYTHONPATH="$ROOT/bench" "$PY" - "$RICCI_JSON" "$PEERS_OUT" <<'PYEOF'
import sys
from gbench_json import aggregates
med, spread, _ = aggregates(sys.argv[1], "us")
peers = {}
for line in open(sys.argv[2]):
    parts = line.split()
    if len(parts) == 3 and not line.startswith("#"):
        peers[(parts[0], parts[1])] = float(parts[2])
for n in sorted(med):
    print(f"# ricci {n}: median {med[n]:.4g} us, stddev {spread.get(n, 0):.3g} us (5 repetitions)")
rec, rec_eval, eager = med["BM_LazyRecordAddTiny"], med["BM_LazyRecordEvalAddTiny"], med["BM_EagerAddTiny"]
print(f"# tiny add: record {rec:.4f} us (target <= 0.3), eval part {rec_eval - rec:.4f} us "
      f"(record+eval - record; target <= eager {eager:.4f} + 0.1 = {eager + 0.1:.4f})")
cases = [  # case, ricci eager, ricci lazy
    ("add_tiny", "BM_EagerAddTiny", "BM_LazyRecordEvalAddTiny"),
    ("add_tiny_record", "BM_EagerAddTiny", "BM_LazyRecordAddTiny"),
    ("chain1000_256x256", "BM_Chain1000Eager", "BM_Chain1000Lazy"),
    ("mlp_step_128_64_10_b8", "BM_MlpStepEager", "BM_MlpStepLazy"),
]
for case, e, l in cases:
    fields = [f"ricci_eager={med[e]:.4g}", f"ricci_lazy={med[l]:.4g}"]
    torch = peers.get((case, "torch"))
    fields.append(f"torch={torch:.4g}" if torch is not None else "torch=n/a")
    if (case, "mlx") in peers:
        fields.append(f"mlx={peers[(case, 'mlx')]:.4g}")
    ratio = f"{med[l] / torch:.3f}" if torch else "n/a"
    print(f"RESULT {case} {' '.join(fields)} unit=us ratio_lazy_vs_torch={ratio}")
PYEOF
