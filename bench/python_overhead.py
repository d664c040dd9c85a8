"""Per-op overhead from Python: ricci vs PyTorch vs numpy vs MLX (each when installed), one run;
and the 16M-element float32 add from Python against the same add timed in C++.

    PYTHONPATH=build/python python3 bench/python_overhead.py [--cpp-bench build/bench/bench_elementwise]

Prints the CPU line, then RESULT lines: `RESULT <case> <library> <microseconds per call> us`, and
`RESULT add_16M python_vs_cpp ratio=<python / C++>` when the C++ benchmark binary is found (the
argument, $RICCI_BENCH_ELEMENTWISE, or build*/bench/bench_elementwise). Its BM_AddAlloc/16777216
is the same allocating `c = a + b` on 2^24 float32 that the Python case times. One thread for every
library (RICCI_NUM_THREADS / OMP_NUM_THREADS = 1 unless set), as bench/bench_common.sh does.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time
import timeit

for _v in ("RICCI_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import ricci  # noqa: E402

try:
    import torch
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
except ImportError:
    torch = None
try:
    import numpy as np
except ImportError:
    np = None
try:
    import mlx.core as mx
    mx.set_default_device(mx.cpu)
except Exception:  # noqa: BLE001  (not installed, or no CPU build)
    mx = None


def best_us(stmt, number, repeat=7, timer=time.perf_counter):
    return min(timeit.repeat(stmt, number=number, repeat=repeat, timer=timer)) / number * 1e6


def report(case, lib, us):
    print(f"RESULT {case} {lib} {us:.3f} us", flush=True)


def cpu_line():
    model, flags = "?", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "?":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    fl = line.split(":", 1)[1].split()
                    flags = " ".join(sorted({x for x in fl if x.startswith(("avx", "fma", "f16c", "amx")) or "bf16" in x}))
                    break
    except OSError:
        pass
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = " ".join(f.read().split()[:3])
    print(f"# cpu: {model}, {os.cpu_count()} cores; flags: {flags}")
    print(f"# load average at start: {load}; threads: {os.environ['RICCI_NUM_THREADS']}")
    versions = [f"ricci {ricci.__version__}", f"python {sys.version.split()[0]}"]
    for name, mod in (("torch", torch), ("numpy", np), ("mlx", mx)):
        if mod is not None:
            versions.append(f"{name} {getattr(mod, '__version__', '?')}")
    print("# " + ", ".join(versions))


def find_cpp_bench(arg):
    if arg:
        return arg
    if os.environ.get("RICCI_BENCH_ELEMENTWISE"):
        return os.environ["RICCI_BENCH_ELEMENTWISE"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = sorted(glob.glob(os.path.join(root, "build*", "bench", "bench_elementwise")))
    return found[0] if found else None


def cpp_add_16m_us(binary, repetitions):
    """Best of `repetitions` of the C++ BM_AddAlloc/16777216 (google benchmark), in us: (real time,
    CPU time)."""
    out = subprocess.run([binary, "--benchmark_filter=^BM_AddAlloc/16777216", "--benchmark_format=json",
                          f"--benchmark_repetitions={repetitions}", "--benchmark_min_time=0.5"],
                         check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
    return (min(b["real_time"] * scale[b["time_unit"]] for b in runs),
            min(b["cpu_time"] * scale[b["time_unit"]] for b in runs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpp-bench", help="path of the C++ bench_elementwise binary")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved Python / C++ rounds of the 16M add")
    args = ap.parse_args()
    cpu_line()

    # a + b on one element
    a1, b1 = ricci.ones(1), ricci.ones(1)
    report("add_1elem", "ricci", best_us(lambda: a1 + b1, 20000))
    if torch:
        ta, tb = torch.ones(1), torch.ones(1)
        report("add_1elem", "torch", best_us(lambda: ta + tb, 20000))
    if np:
        na, nb = np.ones(1, np.float32), np.ones(1, np.float32)
        report("add_1elem", "numpy", best_us(lambda: na + nb, 20000))
    if mx:
        ma, mb = mx.ones(1), mx.ones(1)
        report("add_1elem", "mlx", best_us(lambda: mx.eval(ma + mb), 5000))

    # (a * b).sum().backward() on small tensors
    def rstep():
        x = ricci.ones(8, requires_grad=True)
        (x * x).sum().backward()
    report("mul_sum_backward_8", "ricci", best_us(rstep, 3000))
    if torch:
        def tstep():
            x = torch.ones(8, requires_grad=True)
            (x * x).sum().backward()
        report("mul_sum_backward_8", "torch", best_us(tstep, 3000))
    if mx:
        mgrad = mx.grad(lambda x: (x * x).sum())
        mxx = mx.ones(8)
        report("mul_sum_backward_8", "mlx", best_us(lambda: mx.eval(mgrad(mxx)), 2000))

    # x[1:3, None]
    x = ricci.ones(4, 4)
    report("index_slice_none", "ricci", best_us(lambda: x[1:3, None], 20000))
    if torch:
        tx = torch.ones(4, 4)
        report("index_slice_none", "torch", best_us(lambda: tx[1:3, None], 20000))
    if np:
        nx = np.ones((4, 4), np.float32)
        report("index_slice_none", "numpy", best_us(lambda: nx[1:3, None], 20000))
    if mx:
        mxx4 = mx.ones((4, 4))
        report("index_slice_none", "mlx", best_us(lambda: mx.eval(mxx4[1:3, None]), 5000))

    # 16M-element float32 add: Python and C++ interleaved, best of each
    n = 16 * 1024 * 1024
    big_a, big_b = ricci.ones(n), ricci.ones(n)
    binary = find_cpp_bench(args.cpp_bench)
    # Wall time and CPU time (the process's, one thread): on a loaded machine the CPU times are the
    # steadier comparison, since waiting for a core counts in neither.
    py_best = py_cpu = cpp_best = cpp_cpu = float("inf")
    for _ in range(args.rounds):
        py_best = min(py_best, best_us(lambda: big_a + big_b, 10, repeat=5))
        py_cpu = min(py_cpu, best_us(lambda: big_a + big_b, 10, repeat=5, timer=time.process_time))
        if binary and os.path.exists(binary):
            wall, cpu = cpp_add_16m_us(binary, 3)
            cpp_best, cpp_cpu = min(cpp_best, wall), min(cpp_cpu, cpu)
    report("add_16M", "ricci", py_best)
    report("add_16M_cpu_time", "ricci", py_cpu)
    if cpp_best < float("inf"):
        report("add_16M", "ricci_cpp", cpp_best)
        report("add_16M_cpu_time", "ricci_cpp", cpp_cpu)
        print(f"RESULT add_16M python_vs_cpp ratio={py_best / cpp_best:.3f} cpu_time_ratio={py_cpu / cpp_cpu:.3f} "
              "(target <= 1.05)", flush=True)
    else:
        print("RESULT add_16M ricci_cpp n/a (bench_elementwise not built: cmake -DRICCI_BUILD_BENCH=ON "
              "--target bench_elementwise)")
    if torch:
        tba, tbb = torch.ones(n), torch.ones(n)
        report("add_16M", "torch", best_us(lambda: tba + tbb, 10, repeat=5))
    if np:
        nba, nbb = np.ones(n, np.float32), np.ones(n, np.float32)
        report("add_16M", "numpy", best_us(lambda: nba + nbb, 10, repeat=5))
    if mx:
        mba, mbb = mx.ones(n), mx.ones(n)
        report("add_16M", "mlx", best_us(lambda: mx.eval(mba + mbb), 10, repeat=5))


if __name__ == "__main__":
    main()
