#!/usr/bin/env bash
# Side-by-side comparison of ricci with its peers (PyTorch, NumPy), one RESULT line per case:
#   RESULT <case>_t<n> ricci=<v> <peer>=<v> unit=<unit> ratio=<ricci/peer>
# Method (shared/BENCH.md): per case and thread count, ricci (bench_ops, one process per sample)
# and the peer (bench/compare_ops.py --serve, one process per thread count and OMP_WAIT_POLICY)
# take turns, A B A B;
# each sample is a run of >= 0.2 s after warm-up; the median of the samples is reported, with the
# min-max spread on a "#" line above it. The autograd comparison (bench/torch_autograd.sh, owned
# separately) runs when no filter is given or the filter matches "autograd"; the training steps
# (mlp_step_t<n>: bench_train vs bench/mlp_torch.py, ms/step; gpt_train_t<n>: examples/gpt --bench
# vs bench/gpt_torch.py, tokens/s) when no filter is given or it matches their names.
#
# Usage: bench/run_compare.sh [filter]        filter: a Python regex searched in the case names
# Environment:
#   RICCI_BENCH_BUILD    build dir (default: <repo>/build-bench; configured Release if new)
#   RICCI_BENCH_THREADS_LIST  thread counts to run (default "1 2")
#   RICCI_BENCH_SAMPLES  samples per side (default 5), RICCI_BENCH_MIN_TIME seconds (default 0.2)
#   RICCI_BENCH_JOBS     build parallelism (default 2)
#   RICCI_BENCH_CLEAN_OPENBLAS=1  also unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for ricci (by
#                        default they are unset for the peer only; ricci's float32 GEMM is OpenBLAS,
#                        so a forced OPENBLAS_CORETYPE=Haswell keeps it on AVX2 kernels)
#   RICCI_BENCH_PEER_WAIT_POLICIES  OMP_WAIT_POLICY values tried for the peer at > 1 thread
#                        (default "default PASSIVE"; the best median is reported)
#   RICCI_BENCH_ISA      instruction-set caps to run under (default "native": none), e.g.
#                        "native avx2 portable". Under a cap, ricci gets RICCI_CPU_ISA=<cap> (and
#                        OPENBLAS_CORETYPE Haswell / Prescott unless set), the peer
#                        ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA, MKL_ENABLE_INSTRUCTIONS and
#                        OPENBLAS_CORETYPE at the same level (an AVX-512 machine measured as an
#                        AVX2 one); case names get the suffix _<cap>.
#   RICCI_BENCH_LOAD     n > 0: run everything next to n busy loops of our own (bounded by
#                        RICCI_BENCH_LOAD_SECONDS, default 1800; killed when the script ends)
#   RICCI_BENCH_GPT_STEPS, RICCI_BENCH_GPT_RUNS  GPT training comparison (default 20 steps, 3 runs)
#   PYTHON               interpreter with torch and numpy (default python3, then /usr/bin/python3)
# Exit status: non-zero only when something could not be built or run, never for a missed target.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${RICCI_BENCH_BUILD:-$ROOT/build-bench}"
FILTER="${1:-}"
JOBS="${RICCI_BENCH_JOBS:-2}"

# ---- the peer: an interpreter with torch and numpy ------------------------------------------------
PY=""
for cand in "${PYTHON:-python3}" /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import torch, numpy' 2>/dev/null; then
    PY="$cand"
    break
  fi
done
if [[ -z "$PY" ]]; then
  echo "run_compare: no Python with torch and numpy found; install them with" >&2
  echo "  python3 -m pip install torch numpy   (or apt-get install python3-torch python3-numpy)" >&2
  exit 1
fi

# ---- ricci: build the benchmark program ----------------------------------------------------------
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRICCI_CUDA=OFF \
    -DRICCI_BUILD_TESTS=OFF -DRICCI_BUILD_EXAMPLES=OFF -DRICCI_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$BUILD" -j"$JOBS" --target bench_ops >"$BUILD/bench_ops.build.log" 2>&1 ||
  { tail -30 "$BUILD/bench_ops.build.log" >&2; echo "run_compare: bench_ops did not build" >&2; exit 1; }

# ---- the machine: CPU, vector flags, the instruction set ricci's kernels use -------------------------
echo "# cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores;" \
  "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|fma|f16c|bf16|amx)|bf16' | sort -u | tr '\n' ' ')"
echo "# ricci cpu isa (best for this CPU, RICCI_CPU_ISA unset): $(env -u RICCI_CPU_ISA "$BUILD/bench/bench_ops" --print-isa)"

status=0

# ---- an optional background load of our own (issue 16, item 6: two threads under load) -------------
# RICCI_BENCH_LOAD=<n> starts n busy loops (shell `while :; do :; done`), each bounded by
# `timeout` (RICCI_BENCH_LOAD_SECONDS, default 1800) and ended when this script exits, so every
# case below runs while another process wants the cores.
LOAD_PIDS=()
if [[ "${RICCI_BENCH_LOAD:-0}" -gt 0 ]]; then
  for ((i = 0; i < RICCI_BENCH_LOAD; ++i)); do
    timeout "${RICCI_BENCH_LOAD_SECONDS:-1800}" sh -c 'while :; do :; done' &
    LOAD_PIDS+=($!)
  done
  trap 'kill "${LOAD_PIDS[@]}" 2>/dev/null || true' EXIT
  echo "# background load: ${RICCI_BENCH_LOAD} busy loop(s), pids ${LOAD_PIDS[*]}, at most ${RICCI_BENCH_LOAD_SECONDS:-1800} s"
fi
"$PY" - "$BUILD/bench/bench_ops" "$ROOT/bench/compare_ops.py" "$FILTER" <<'PYEOF' || status=1
import json, os, re, statistics, subprocess, sys

bench, peer_script, filt = sys.argv[1], sys.argv[2], sys.argv[3]
threads_list = [int(t) for t in os.environ.get("RICCI_BENCH_THREADS_LIST", "1 2").split()]
samples = int(os.environ.get("RICCI_BENCH_SAMPLES", "5"))
min_time = float(os.environ.get("RICCI_BENCH_MIN_TIME", "0.2"))

# Groups run together (one ricci process answers all of a group's ricci names per sample). Each
# output line: (case, ricci name, peer label, side the peer value comes from, name on that side).
def simple(name):
    return ([name], [name], [(name, name, "torch", "peer", name)])

GROUPS = [
    (["add_16M_f32"], ["add_16M_f32", "stream_add_16M_f32"],
     [("add_16M_f32", "add_16M_f32", "torch", "peer", "add_16M_f32"),
      # allocating ricci add against STREAM-style numpy add into a preallocated output
      ("add_vs_stream_16M_f32", "add_16M_f32", "numpy_stream", "peer", "stream_add_16M_f32")]),
    simple("exp_16M_f32"),
    simple("gelu_16M_f32"),
    simple("sum_16M_f32"),
    simple("sum_dim0_4096x4096_f32"),
    simple("sum_dim1_4096x4096_f32"),
    simple("amax_dim0_4096x4096_f32"),
    simple("amax_dim1_4096x4096_f32"),
    simple("mean_dim1_4096x4096_f32"),
    simple("var_dim1_4096x4096_f32"),
    simple("argmax_dim1_4096x4096_f32"),
    simple("logsumexp_dim1_4096x4096_f32"),
    simple("softmax_4096x4096_f32"),
    simple("matmul_64_f32"),
    simple("matmul_256_f32"),
    simple("matmul_1024_f32"),
    simple("matmul_2048_f32"),
    simple("matmul_1024_bf16"),
    simple("linear_bf16_1x4096x4096"),
    simple("linear_bf16_16x4096x4096"),
    simple("linear_bf16_512x4096x4096"),
    simple("linear_f16_1x4096x4096"),
    simple("linear_f16_16x4096x4096"),
    simple("linear_f32_1x4096x4096"),
    (["einsum_btd_bsd_8x512x64_f32", "bmm_btd_bsd_8x512x64_f32"],
     ["einsum_btd_bsd_8x512x64_f32", "bmm_btd_bsd_8x512x64_f32"],
     [("einsum_btd_bsd_8x512x64_f32", "einsum_btd_bsd_8x512x64_f32", "torch", "peer", "einsum_btd_bsd_8x512x64_f32"),
      ("bmm_btd_bsd_8x512x64_f32", "bmm_btd_bsd_8x512x64_f32", "torch", "peer", "bmm_btd_bsd_8x512x64_f32"),
      ("einsum_vs_bmm_8x512x64_f32", "einsum_btd_bsd_8x512x64_f32", "ricci_bmm", "ricci", "bmm_btd_bsd_8x512x64_f32")]),
    simple("transpose_copy_4096x4096_f32"),
    simple("alloc_fill_64MiB_f32"),
]

def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"

failed = False
matched = False
units = {}  # ricci name -> unit, from the label bench_ops gives each case
isa_list = os.environ.get("RICCI_BENCH_ISA", "native").split()
# Per cap: (ricci env, peer env) additions, the peer's libraries held at the same level.
ISA_ENV = {
    "native": ({}, {}),
    "avx512bf16": ({"RICCI_CPU_ISA": "avx512bf16"}, {}),
    "avx512": ({"RICCI_CPU_ISA": "avx512"},
               {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "MKL_ENABLE_INSTRUCTIONS": "AVX512"}),
    "avx2": ({"RICCI_CPU_ISA": "avx2", "OPENBLAS_CORETYPE": "Haswell"},
             {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
              "OPENBLAS_CORETYPE": "Haswell"}),
    "portable": ({"RICCI_CPU_ISA": "portable", "OPENBLAS_CORETYPE": "Prescott"},
                 {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
                  "OPENBLAS_CORETYPE": "Prescott"}),
}
for isa in isa_list:
    if isa not in ISA_ENV:
        print(f"run_compare: RICCI_BENCH_ISA: unknown cap {isa!r} (expected {', '.join(ISA_ENV)})", file=sys.stderr)
        sys.exit(1)

def ricci_sample(names, env):
    regex = "^(" + "|".join(names) + ")(/.*)?$"
    cmd = [bench, f"--benchmark_filter={regex}", f"--benchmark_min_time={min_time}", "--benchmark_format=json"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"bench_ops failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    values = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        name = b["name"].split("/")[0]
        values[name] = b["work"] / (b["real_time"] * scale) / 1e9
        units[name] = b.get("label", "?")
    missing = set(names) - set(values)
    if missing:
        raise RuntimeError(f"bench_ops has no case {sorted(missing)}")
    return values

def fmt(v):
    return f"{v:.4g}"

for isa, n in [(isa, n) for isa in isa_list for n in threads_list]:
    suffix = f"_t{n}" + ("" if isa == "native" else f"_{isa}")
    ricci_isa_env, peer_isa_env = ISA_ENV[isa]
    groups = [g for g in GROUPS if any(re.search(filt, line[0] + suffix) for line in g[2])] if filt else GROUPS
    if not groups:
        continue
    matched = True
    common = {"OMP_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n)}
    ricci_env = dict(os.environ, RICCI_BENCH_THREADS=str(n), RICCI_NUM_THREADS=str(n), **common)
    if os.environ.get("RICCI_BENCH_CLEAN_OPENBLAS") == "1":
        for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            ricci_env.pop(k, None)
    ricci_env.pop("RICCI_CPU_ISA", None)
    for k, v in ricci_isa_env.items():
        if k == "OPENBLAS_CORETYPE" and k in os.environ:
            continue  # the caller's OpenBLAS core wins
        ricci_env[k] = v
    ricci_isa = subprocess.run([bench, "--print-isa"], env=ricci_env, capture_output=True, text=True).stdout.strip()
    # The peer's best configuration: with n > 1, OpenMP's default busy-wait wins on an idle machine
    # and loses badly (10-1000x on small GEMMs) when other processes want the cores, so one peer
    # process per OMP_WAIT_POLICY runs, and each case reports the better of them.
    policies = ["default"] if n == 1 else os.environ.get("RICCI_BENCH_PEER_WAIT_POLICIES", "default PASSIVE").split()
    peers = {}
    for pol in policies:
        peer_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        peer_env.update(common)
        peer_env.update(peer_isa_env)
        if pol != "default":
            peer_env["OMP_WAIT_POLICY"] = pol
        proc = subprocess.Popen([sys.executable, peer_script, "--serve", f"--threads={n}", f"--min-time={min_time}"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=peer_env)
        hello = proc.stdout.readline().strip()
        if not hello.startswith("ready"):
            print(f"run_compare: the peer did not start: {hello!r}", file=sys.stderr)
            sys.exit(1)
        peers[pol] = proc
    blas = ricci_env.get("OPENBLAS_CORETYPE", "auto")
    peer_caps = " ".join(f"{k}={v}" for k, v in peer_isa_env.items() if k != "OPENBLAS_CORETYPE")
    print(f"# threads={n}  cap={isa}  ricci cpu isa: {ricci_isa}  peer: {hello[len('ready '):]}"
          f"{' ' + peer_caps if peer_caps else ''}, OMP_WAIT_POLICY {'/'.join(policies)} (best reported)"
          f"  ricci OpenBLAS core: {blas}  load average: {loadavg()}", flush=True)

    def peer_sample(pol, name):
        proc = peers[pol]
        proc.stdin.write(name + "\n")
        proc.stdin.flush()
        parts = proc.stdout.readline().split()
        if len(parts) != 3 or parts[0] != name or parts[1] == "error":
            raise RuntimeError(f"peer ({pol}) failed on {name}: {parts}")
        return float(parts[1])

    for ricci_names, peer_names, lines in groups:
        try:
            got = {("ricci", k): [] for k in ricci_names}
            got.update({(pol, k): [] for pol in policies for k in peer_names})
            for pol in policies:  # warm-up: first-touch faults, lazy init (bench_ops warms itself)
                for k in peer_names:
                    peer_sample(pol, k)
            for _ in range(samples):  # A B A B ...
                for k, v in ricci_sample(ricci_names, ricci_env).items():
                    if ("ricci", k) in got:
                        got[("ricci", k)].append(v)
                for pol in policies:
                    for k in peer_names:
                        got[(pol, k)].append(peer_sample(pol, k))
        except (RuntimeError, ValueError, KeyError) as e:
            print(f"run_compare: {ricci_names[0]}{suffix}: {e}", file=sys.stderr, flush=True)
            failed = True
            continue
        for case, rname, plabel, pside, pname in lines:
            if filt and not re.search(filt, case + suffix):
                continue
            rv = got[("ricci", rname)]
            rmed = statistics.median(rv)
            if pside == "ricci":
                pv, note = got[("ricci", pname)], ""
            else:
                pol = max(policies, key=lambda q: statistics.median(got[(q, pname)]))
                pv = got[(pol, pname)]
                note = "" if len(policies) == 1 else f" [OMP_WAIT_POLICY {pol}; " + ", ".join(
                    f"{q} {fmt(statistics.median(got[(q, pname)]))}" for q in policies) + "]"
            pmed = statistics.median(pv)
            unit = units[rname]
            print(f"# {case}{suffix}: ricci {fmt(min(rv))}-{fmt(max(rv))}, {plabel} {fmt(min(pv))}-{fmt(max(pv))} "
                  f"(min-max of {samples}){note}", flush=True)
            print(f"RESULT {case}{suffix} ricci={fmt(rmed)} {plabel}={fmt(pmed)} unit={unit} "
                  f"ratio={rmed / pmed:.3f}", flush=True)
    for proc in peers.values():
        proc.stdin.close()
        proc.wait()
    print(f"# threads={n} cap={isa} done; load average: {loadavg()}", flush=True)

if not matched:
    print(f"# no op case matches {filt!r} (names look like add_16M_f32_t2; bench/compare_ops.py --list)", flush=True)
sys.exit(1 if failed else 0)
PYEOF

# ---- autograd overhead (bench/torch_autograd.sh: builds bench_autograd and a libtorch program) ----
if [[ -z "$FILTER" ]] || "$PY" -c 'import re,sys; sys.exit(0 if re.search(sys.argv[1], "autograd") or "autograd" in sys.argv[1] else 1)' "$FILTER"; then
  PYTHON="$PY" bash "$ROOT/bench/torch_autograd.sh" "$BUILD" || { echo "run_compare: torch_autograd.sh failed" >&2; status=1; }
fi
# ---- training steps (bench_train vs bench/mlp_torch.py; GPT tokens/s via examples/gpt --bench) ----
matches() { [[ -z "$FILTER" ]] || "$PY" -c 'import re,sys; sys.exit(0 if re.search(sys.argv[1], sys.argv[2]) else 1)' "$FILTER" "$1"; }
if matches "mlp_step_t1 mlp_step_t2"; then
  cmake --build "$BUILD" -j"$JOBS" --target bench_train >"$BUILD/bench_train.build.log" 2>&1 || { echo "run_compare: bench_train failed to build" >&2; status=1; }
  for n in 1 2; do
    r=$(RICCI_BENCH_THREADS=$n "$BUILD/bench/bench_train" --benchmark_format=json 2>/dev/null |
        "$PY" -c 'import json,sys; d=json.load(sys.stdin); print([b["real_time"] for b in d["benchmarks"] if b["name"].endswith("_median")][0])')
    best=""
    for policy in "" PASSIVE; do
      t=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${policy:+OMP_WAIT_POLICY=$policy} OMP_NUM_THREADS=$n OPENBLAS_NUM_THREADS=$n \
          "$PY" "$ROOT/bench/mlp_torch.py" "$n" | sed -n 's/^ms_per_step=\([0-9.]*\).*/\1/p')
      if [[ -n "$t" ]] && { [[ -z "$best" ]] || "$PY" -c "import sys; sys.exit(0 if $t < $best else 1)"; }; then best=$t; fi
    done
    if [[ -n "$r" && -n "$best" ]]; then
      "$PY" -c "r=$r; t=$best; print(f'RESULT mlp_step_784_512_512_10_b128_adamw_t$n ricci={r:.3f} torch={t:.3f} unit=ms/step ratio={r/t:.3f}')"
    else
      echo "run_compare: mlp_step_t$n could not run" >&2; status=1
    fi
  done
fi
# GPT training throughput (examples/gpt --bench N vs bench/gpt_torch.py --steps N: same model,
# batch, optimizer and clipping), tokens/s, so ratio > 1 means ricci is faster. Medians of
# RICCI_BENCH_GPT_RUNS (default 3) runs per side, taken alternately; the peer's better of
# OMP_WAIT_POLICY default / PASSIVE at 2 threads. Needs the examples (configured on here if off).
if matches "gpt_train_t1 gpt_train_t2"; then
  if ! grep -q '^RICCI_BUILD_EXAMPLES:BOOL=ON' "$BUILD/CMakeCache.txt"; then
    cmake -S "$ROOT" -B "$BUILD" -DRICCI_BUILD_EXAMPLES=ON >/dev/null
  fi
  GPT_STEPS="${RICCI_BENCH_GPT_STEPS:-20}"
  GPT_RUNS="${RICCI_BENCH_GPT_RUNS:-3}"
  if cmake --build "$BUILD" -j"$JOBS" --target gpt >"$BUILD/gpt.build.log" 2>&1; then
    for n in 1 2; do
      rs="" ts=""
      for ((k = 0; k < GPT_RUNS; ++k)); do
        r=$(OMP_NUM_THREADS=$n OPENBLAS_NUM_THREADS=$n RICCI_NUM_THREADS=$n \
            "$BUILD/examples/gpt" --bench "$GPT_STEPS" --threads "$n" 2>/dev/null | sed -n 's/^tokens_per_s=\([0-9.]*\).*/\1/p' || true)
        rs="$rs ${r:-nan}"
        best=""
        for policy in "" PASSIVE; do
          [[ $n == 1 && -n "$policy" ]] && continue
          t=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${policy:+OMP_WAIT_POLICY=$policy} OMP_NUM_THREADS=$n \
              OPENBLAS_NUM_THREADS=$n MKL_NUM_THREADS=$n "$PY" "$ROOT/bench/gpt_torch.py" --steps "$GPT_STEPS" --threads "$n" |
              sed -n 's/^tokens_per_s=\([0-9.]*\).*/\1/p' || true)
          if [[ -n "$t" ]] && { [[ -z "$best" ]] || "$PY" -c "import sys; sys.exit(0 if $t > $best else 1)"; }; then best=$t; fi
        done
        ts="$ts ${best:-nan}"
      done
      "$PY" - "$n" "$rs" "$ts" <<'PYEOF' || { echo "run_compare: gpt_train_t$n could not run" >&2; status=1; }
import statistics, sys
n, r, t = sys.argv[1], [float(v) for v in sys.argv[2].split()], [float(v) for v in sys.argv[3].split()]
if any(v != v for v in r + t):
    sys.exit(1)
rm, tm = statistics.median(r), statistics.median(t)
print(f"# gpt_train_t{n}: ricci {min(r):.0f}-{max(r):.0f}, torch {min(t):.0f}-{max(t):.0f} tokens/s (min-max of {len(r)})")
print(f"RESULT gpt_train_t{n} ricci={rm:.0f} torch={tm:.0f} unit=tokens/s ratio={rm / tm:.3f}")
PYEOF
    done
  else
    echo "run_compare: examples/gpt did not build (see $BUILD/gpt.build.log)" >&2; status=1
  fi
fi
exit "$status"
