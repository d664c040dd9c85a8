#!/usr/bin/env bash
# Quantized weights (include/ricci/quantize.h) against float weights, the machine's memory, PyTorch
# and MLX (bench/bench_quant.cpp, bench/quant_peers.py):
#   RESULT bandwidth threads=<n> read_GBps=<median GB/s> best_GBps=<...> sgemv_GBps=<float32 matvec>
#   RESULT matvec_int<b>[_a8][_cold] threads=<n> ricci=<us> cpu_us=<us> GBps=<weight bytes read / time> pct_of_read_bw=<%>
#          speedup_vs_f32=<ricci f32 / ricci int> speedup_vs_bf16=<...> torch=<us> mlx=<us> ratio_vs_torch=<ricci/torch>
#   RESULT matvec_f32|matvec_bf16 threads=<n> ricci=<us> cpu_us=<us> GBps=<...> torch=<us> mlx=<us>
#   RESULT prefill_int<b>[_a8]|prefill_f32 ricci=<ms> GFLOPS=<...> vs_f32=<ricci int / ricci f32 time> torch=<ms> mlx=<ms>
# Weights 4096 x 4096, group size 64, float32 scales and biases; decode is one row, prefill 512 rows.
# The read bandwidth is bench_peak's BM_Read_256MiB (a 256 MiB buffer summed as 8 streams per
# thread, median of 5; the best of the 5 is printed beside it). matvec_int<b> uses
# one matrix every call (10.5 MB at 4 bits: it stays in the 32 MB L3); matvec_int<b>_cold cycles
# through 8 matrices (read from memory every call); _a8: x rounded to int8 first
# (ActivationPrecision::Int8, as PyTorch's dynamically quantized Linear does). Targets (issue 15):
# int4/int8 matvec >= 75 % of the read bandwidth at 1 and 2 threads, int4 decode >= 5x float32.
# Usage: bench/run_quant.sh [ricci build dir (default: <repo>/build-bench; configured Release if new)]
#                           [baseline build dir: its bench/bench_quant, already built, is not rebuilt]
# With a baseline, the two bench_quant binaries run alternately (RUNS=3 rounds of 5 repetitions
# each, medians over all rounds), as a loaded machine needs: the baseline's lines print as
# `RESULT baseline:<case> ...`, beside the same bandwidth and peers. `cpu_us` is the calling
# thread's CPU time per call (one thread: time not lost to other processes on the core).
# QUANT_FILTER=<regex> runs only those benchmarks (e.g. 'Matvec').
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
bench_setup bench_quant "${1:-}"
BASE="${2:-}"
RUNS="${RUNS:-$([[ -n "$BASE" ]] && echo 3 || echo 1)}"
if [[ -n "$BASE" && ! -x "$BASE/bench/bench_quant" ]]; then
  echo "run_quant: no $BASE/bench/bench_quant (build it there first)" >&2
  exit 1
fi

cmake --build "$BUILD" -j2 --target bench_peak >"$BUILD/bench_peak.build.log" 2>&1 ||
  { tail -30 "$BUILD/bench_peak.build.log" >&2; echo "bench_peak did not build" >&2; exit 1; }
PEAK_JSON="$BUILD/bench_peak_read.json"
"$BUILD/bench/bench_peak" --benchmark_filter=Read --benchmark_format=json --benchmark_min_time="$MIN_TIME" \
  --benchmark_repetitions=5 >"$PEAK_JSON"
PEERS_OUT="$BUILD/quant_peers.txt"
quant_json() {  # <binary> <output>
  "$1" --benchmark_format=json --benchmark_min_time="$MIN_TIME" --benchmark_repetitions=5 \
    ${QUANT_FILTER:+--benchmark_filter="$QUANT_FILTER"} >"$2"
}
JSONS=() BASE_JSONS=()
for ((r = 1; r <= RUNS; ++r)); do
  JSONS+=("$BUILD/bench_quant.$r.json")
  quant_json "$BUILD/bench/bench_quant" "${JSONS[-1]}"
  echo "# bench_quant round $r done; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  if [[ -n "$BASE" ]]; then
    BASE_JSONS+=("$BUILD/bench_quant_baseline.$r.json")
    quant_json "$BASE/bench/bench_quant" "${BASE_JSONS[-1]}"
    echo "# baseline round $r done; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  fi
done
(cd "$ROOT/bench" && "$PY" quant_peers.py) 2>"$BUILD/quant_peers.err" >"$PEERS_OUT" ||
  { cat "$BUILD/quant_peers.err" >&2; echo "run_quant: quant_peers.py failed" >&2; exit 1; }
grep -E '^(# [a-z]+ [0-9]|[a-z]+: not installed)' "$PEERS_OUT" || true
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PY" - "$PEERS_OUT" "$PEAK_JSON" "${JSONS[*]}" "${BASE_JSONS[*]:-}" <<'PYEOF'
import json, statistics, sys
scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}

def load(files):
    """Medians over every repetition of every round: real time, CPU time, GB/s, GFLOPS."""
    runs = {}
    for f in files.split():
        for b in json.load(open(f))["benchmarks"]:
            if b.get("run_type") != "iteration":
                continue
            r = runs.setdefault(b["run_name"].replace("/real_time", ""), {"t": [], "c": [], "bps": [], "gf": []})
            r["t"].append(b["real_time"] * scale[b["time_unit"]])
            r["c"].append(b["cpu_time"] * scale[b["time_unit"]])
            if "bytes_per_second" in b:
                r["bps"].append(b["bytes_per_second"] / 1e9)
            if "GFLOPS" in b:
                r["gf"].append(b["GFLOPS"])
    med = {n: statistics.median(r["t"]) for n, r in runs.items()}
    cpu = {n: statistics.median(r["c"]) for n, r in runs.items()}
    bps = {n: statistics.median(r["bps"]) for n, r in runs.items() if r["bps"]}
    gflops = {n: statistics.median(r["gf"]) for n, r in runs.items() if r["gf"]}
    return med, cpu, bps, gflops

peers = {}
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 3 and not line.startswith("#"):
        peers[(p[0], p[1])] = float(p[2])

def peer_fields(case, div=1.0):
    f = []
    for peer in ("torch", "mlx"):
        v = peers.get((case, peer))
        f.append(f"{peer}={v / div:.4g}" if v is not None else f"{peer}=n/a")
    return f

reads = {}
for b in json.load(open(sys.argv[2]))["benchmarks"]:
    if b.get("run_type") == "iteration" and "GB/s" in b:
        t = int(b["run_name"].split("threads:")[1].split("/")[0])
        reads.setdefault(t, []).append(b["GB/s"])
readbw = {}
main_bps = load(sys.argv[3])[2]
for t in (1, 2):
    v = reads.get(t, [])
    readbw[t] = statistics.median(v) if v else 0
    print(f"RESULT bandwidth threads={t} read_GBps={readbw[t]:.2f} best_GBps={max(v) if v else 0:.2f} "
          f"sgemv_GBps={main_bps.get(f'BM_Float32Matvec/{t}', 0):.2f}")


def report(label, files):
    med, cpu, bps, gflops = load(files)
    for t in (1, 2):
        bw = readbw[t]
        f32, bf16 = med.get(f"BM_Float32Matvec/{t}"), med.get(f"BM_BFloat16Matvec/{t}")
        for bits in (4, 8):
            for suffix, bm in (("", "BM_QuantMatvec"), ("_cold", "BM_QuantMatvecCold"),
                               ("_a8", "BM_QuantMatvecInt8x"), ("_a8_cold", "BM_QuantMatvecInt8xCold")):
                n = f"{bm}/{bits}/{t}"
                if n not in med:
                    continue
                case = f"matvec_int{bits}_t{t}"
                fields = [f"threads={t}", f"ricci={med[n]:.4g}", f"cpu_us={cpu[n]:.4g}", f"GBps={bps[n]:.2f}",
                          f"pct_of_read_bw={100 * bps[n] / bw:.0f}" if bw else "pct_of_read_bw=n/a",
                          f"speedup_vs_f32={f32 / med[n]:.2f}" if f32 else "speedup_vs_f32=n/a",
                          f"speedup_vs_bf16={bf16 / med[n]:.2f}" if bf16 else "speedup_vs_bf16=n/a"]
                fields += peer_fields(case)
                tv = peers.get((case, "torch"))
                fields.append(f"ratio_vs_torch={med[n] / tv:.3f}" if tv else "ratio_vs_torch=n/a")
                print(f"RESULT {label}matvec_int{bits}{suffix} {' '.join(fields)} unit=us")
        for kind, n in (("f32", f"BM_Float32Matvec/{t}"), ("bf16", f"BM_BFloat16Matvec/{t}")):
            if n in med:
                print(f"RESULT {label}matvec_{kind} threads={t} ricci={med[n]:.4g} cpu_us={cpu[n]:.4g} GBps={bps[n]:.2f} "
                      + " ".join(peer_fields(f"matvec_{kind}_t{t}")) + " unit=us")
    f32p = med.get("BM_Float32Prefill/2")
    # int<b>_a8: x rounded to int8 first (ActivationPrecision::Int8), as PyTorch's dynamic int8
    # Linear (its torch= figure) computes; its peers are those of the same bit width.
    for kind, n in (("int4", "BM_QuantPrefill/4/2"), ("int8", "BM_QuantPrefill/8/2"),
                    ("int4_a8", "BM_QuantPrefillInt8x/4/2"), ("int8_a8", "BM_QuantPrefillInt8x/8/2"),
                    ("f32", "BM_Float32Prefill/2")):
        if n not in med:
            continue
        ms = med[n] / 1e3
        rel = f"time_vs_f32={med[n] / f32p:.2f}" if f32p else "time_vs_f32=n/a"
        print(f"RESULT {label}prefill_{kind} threads=2 ricci={ms:.4g} GFLOPS={gflops.get(n, 0):.1f} {rel} "
              + " ".join(peer_fields(f"prefill_{kind.removesuffix('_a8')}", 1e3)) + " unit=ms")

report("", sys.argv[3])
if sys.argv[4].strip():
    report("baseline:", sys.argv[4])
PYEOF
