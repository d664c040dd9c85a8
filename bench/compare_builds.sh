#!/usr/bin/env bash
# Eager per-op overhead of two ricci builds (e.g. before and after a change), measured in one run:
#   1. bench_autograd from each build dir, alternately (A B A B A B, RICCI_BENCH_ROUNDS rounds,
#      5 repetitions of >= 0.2 s each per run), medians and min-max over all repetitions;
#   2. bench/torch_autograd.sh once against build B, for libtorch's figures in the same run;
#   3. with valgrind installed: instructions per op (callgrind) for both builds, which unlike wall
#      time do not move with what else runs on the machine (bench/overhead_instr.cpp).
# Prints `CASE <case> A=<us> B=<us> change=<B/A - 1> torch=<us>` and `INSTR <case> A=.. B=..` lines
# (and, for a build with lazy evaluation, the instructions to record a tiny add and to evaluate it).
# Usage: bench/compare_builds.sh <build dir A (before)> <build dir B (after)>
#   Both must be configured Release builds with RICCI_BUILD_BENCH=ON; bench_autograd is (re)built.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
A="$(cd "${1:?build dir A}" && pwd)"
B="$(cd "${2:?build dir B}" && pwd)"
ROUNDS="${RICCI_BENCH_ROUNDS:-3}"
PY="${PYTHON:-python3}"
WORK="${COMPARE_BUILDS_DIR:-$B/compare_builds}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 RICCI_NUM_THREADS=1
mkdir -p "$WORK"
rm -f "$WORK"/A_*.json "$WORK"/B_*.json

for side in A B; do
  dir="${!side}"
  cmake --build "$dir" -j2 --target bench_autograd >"$WORK/build_$side.log" 2>&1 ||
    { tail -20 "$WORK/build_$side.log" >&2; echo "compare_builds: bench_autograd did not build in $dir" >&2; exit 1; }
  echo "# $side: $dir ($(git -C "$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$dir/CMakeCache.txt")" describe --always --dirty 2>/dev/null || echo '?'))"
done
echo "# cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(getconf _NPROCESSORS_ONLN) cores;" \
  "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|fma|f16c|bf16|amx)|bf16' | sort -u | tr '\n' ' ')"

for ((r = 1; r <= ROUNDS; ++r)); do
  for side in A B; do
    dir="${!side}"
    echo "# round $r $side, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$dir/bench/bench_autograd" --benchmark_format=json \
      --benchmark_min_time=0.2 --benchmark_repetitions=5 >"$WORK/${side}_$r.json"
  done
done

echo "# libtorch: bench/torch_autograd.sh $B"
TORCH_BENCH_DIR="$WORK/torch_autograd" "$ROOT/bench/torch_autograd.sh" "$B" | tee "$WORK/torch_autograd.txt"

"$PY" - "$WORK" "$ROUNDS" <<'PYEOF'
import json, re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def samples(side):
    out = {}
    for r in range(1, rounds + 1):
        for b in json.load(open(f"{work}/{side}_{r}.json"))["benchmarks"]:
            if b.get("run_type") != "iteration":
                continue
            name = b["run_name"].replace("/manual_time", "")
            if "per_op" in b:
                v = b["per_op"] * 1e6
            else:
                v = b["real_time"] * {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
            out.setdefault(name, []).append(v)
    return out
a, b = samples("A"), samples("B")
torch = {}
for line in open(f"{work}/torch_autograd.txt"):
    m = re.match(r"RESULT (\S+)_t1 ricci=\S+ torch=(\S+)", line)
    if m:
        torch[m.group(1)] = float(m.group(2))
for case in a:
    if case not in b:
        continue
    ma, mb = statistics.median(a[case]), statistics.median(b[case])
    t = f"{torch[case]:.4f}" if case in torch else "n/a"
    print(f"CASE {case} A={ma:.4f} B={mb:.4f} change={mb / ma - 1:+.1%} torch={t} unit=us/op "
          f"# A {min(a[case]):.4f}-{max(a[case]):.4f}, B {min(b[case]):.4f}-{max(b[case]):.4f} (min-max of {len(a[case])})")
PYEOF

if ! command -v valgrind >/dev/null; then
  echo "# valgrind: not installed; no instruction counts"
  exit 0
fi
for side in A B; do
  dir="${!side}"
  src="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$dir/CMakeCache.txt")"
  lib="$(dirname "$(find "$dir" -maxdepth 1 -name 'libricci.so*' | head -1)")"
  g++ -std=c++20 -O3 -DNDEBUG -I"$src/include" "$ROOT/bench/overhead_instr.cpp" -L"$lib" -lricci \
    -Wl,-rpath,"$lib" -o "$WORK/overhead_instr_$side"
done
instr() {  # side case n -> total instructions (Ir) of the run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$WORK/overhead_instr_$1" "$2" "$3" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
declare -A N=([add_tiny_nograd]=20000 [add_tiny_requires_grad]=20000 [mul_backward_tiny]=5000
  [scalar_graph_forward]=20000 [scalar_graph_backward]=20000)
declare -A PER
for c in add_tiny_nograd add_tiny_requires_grad mul_backward_tiny scalar_graph_forward scalar_graph_backward; do
  n=${N[$c]}
  for side in A B; do
    one=$(instr "$side" "$c" "$n")
    two=$(instr "$side" "$c" $((2 * n)))
    PER[$c,$side]=$(((two - one) / n))
  done
done
for side in A B; do PER[scalar_graph_backward,$side]=$((PER[scalar_graph_backward,$side] - PER[scalar_graph_forward,$side])); done
for c in add_tiny_nograd add_tiny_requires_grad mul_backward_tiny scalar_graph_forward scalar_graph_backward; do
  a=${PER[$c,A]} b=${PER[$c,B]}
  echo "INSTR $c A=$a B=$b change=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.1f%%", (b / a - 1) * 100 }') unit=instructions/op"
done
# Lazy evaluation's own costs, where a build has it (bench/overhead_instr.cpp compiles those cases
# only against a ricci with ricci/lazy.h): recording a tiny add, and recording + evaluating it.
for side in A B; do
  "$WORK/overhead_instr_$side" lazy_record_add_tiny 1 2>/dev/null || continue
  for c in lazy_record_add_tiny lazy_record_eval_add_tiny; do
    one=$(instr "$side" "$c" 20000)
    two=$(instr "$side" "$c" 40000)
    echo "INSTR $c $side=$(((two - one) / 20000)) (eager add_tiny_nograd: ${PER[add_tiny_nograd,$side]}) unit=instructions/op"
  done
done
