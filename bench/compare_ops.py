#!/usr/bin/env python3
"""The PyTorch (and NumPy) side of bench/run_compare.sh: the cases of bench/bench_ops.cpp, under the
same names, measured the same way (work per call / wall time of a run of >= min_time seconds).

Two modes:
  --serve       read one case name per line on stdin, answer "<case> <value> <unit>" per line
                (one sample each); run_compare.sh keeps one such process per thread count and
                alternates its samples with bench_ops runs.
  [cases...]    standalone: print "<case> median=<v> min=<v> max=<v> unit=<u>" per case.

Threads: --threads n calls torch.set_num_threads(n); the caller must also set OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS in this process's environment (BLAS reads them at load time).
"""
import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

N16M = 1 << 24
MIB64 = N16M * 4
B, T, D = 8, 512, 64


class Cases:
    """Each case: (make, unit, work) where make() returns the zero-argument callable to time."""

    def __init__(self, threads):
        self.threads = threads
        self._cache = {}
        self.table = {
            "add_16M_f32": (self._add, "GB/s", 3 * MIB64),
            "exp_16M_f32": (lambda: self._unary(torch.exp), "GB/s", 2 * MIB64),
            "gelu_16M_f32": (lambda: self._unary(torch.nn.functional.gelu), "GB/s", 2 * MIB64),
            "sum_16M_f32": (lambda: self._unary(torch.sum), "GB/s", MIB64),
            "softmax_4096x4096_f32": (self._softmax, "GB/s", 2 * MIB64),
            "sum_dim0_4096x4096_f32": (lambda: self._rows(lambda x: torch.sum(x, 0)), "GB/s", MIB64),
            "sum_dim1_4096x4096_f32": (lambda: self._rows(lambda x: torch.sum(x, 1)), "GB/s", MIB64),
            "amax_dim0_4096x4096_f32": (lambda: self._rows(lambda x: torch.amax(x, 0)), "GB/s", MIB64),
            "amax_dim1_4096x4096_f32": (lambda: self._rows(lambda x: torch.amax(x, 1)), "GB/s", MIB64),
            "mean_dim1_4096x4096_f32": (lambda: self._rows(lambda x: torch.mean(x, 1)), "GB/s", MIB64),
            "var_dim1_4096x4096_f32": (lambda: self._rows(lambda x: torch.var(x, 1)), "GB/s", MIB64),
            "argmax_dim1_4096x4096_f32": (lambda: self._rows(lambda x: torch.argmax(x, 1)), "GB/s", MIB64),
            "logsumexp_dim1_4096x4096_f32": (lambda: self._rows(lambda x: torch.logsumexp(x, 1)), "GB/s", MIB64),
            "transpose_copy_4096x4096_f32": (self._transpose, "GB/s", 2 * MIB64),
            "alloc_fill_64MiB_f32": (lambda: (lambda: torch.empty(N16M).fill_(1)), "GB/s", MIB64),
            "einsum_btd_bsd_8x512x64_f32": (self._einsum, "GFLOP/s", 2.0 * B * T * T * D),
            "bmm_btd_bsd_8x512x64_f32": (self._bmm, "GFLOP/s", 2.0 * B * T * T * D),
            "stream_add_16M_f32": (self._stream_add, "GB/s", 3 * MIB64),
        }
        for n in (64, 256, 1024, 2048):
            self.table[f"matmul_{n}_f32"] = (lambda n=n: self._matmul(n, torch.float32), "GFLOP/s", 2.0 * n**3)
        self.table["matmul_1024_bf16"] = (lambda: self._matmul(1024, torch.bfloat16), "GFLOP/s", 2.0 * 1024**3)
        for m in (1, 16, 512):
            self.table[f"linear_bf16_{m}x4096x4096"] = (lambda m=m: self._linear(m, torch.bfloat16), "GFLOP/s",
                                                        2.0 * m * 4096 * 4096)
        for m in (1, 16):
            self.table[f"linear_f16_{m}x4096x4096"] = (lambda m=m: self._linear(m, torch.float16), "GFLOP/s",
                                                       2.0 * m * 4096 * 4096)
        self.table["linear_f32_1x4096x4096"] = (lambda: self._linear(1, torch.float32), "GFLOP/s", 2.0 * 4096 * 4096)

    def _vec(self, i):
        key = ("vec", i)
        if key not in self._cache:
            self._cache[key] = torch.randn(N16M)
        return self._cache[key]

    def _square(self):
        if "square" not in self._cache:
            self._cache["square"] = torch.randn(4096, 4096)
        return self._cache["square"]

    def _add(self):
        a, b = self._vec(0), self._vec(1)
        return lambda: a + b

    def _unary(self, f):
        a = self._vec(0)
        return lambda: f(a)

    def _rows(self, f):
        # A reduction of the 4096x4096 matrix along one axis (bytes read as the work).
        x = self._square()
        return lambda: f(x)

    def _softmax(self):
        x = self._square()
        return lambda: torch.softmax(x, -1)

    def _transpose(self):
        x = self._square()
        return lambda: x.t().contiguous()

    def _matmul(self, n, dtype):
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        return lambda: a @ b

    def _linear(self, m, dtype):
        x, w = torch.randn(m, 4096).to(dtype), torch.randn(4096, 4096).to(dtype)
        return lambda: torch.nn.functional.linear(x, w)

    def _qk(self):
        if "qk" not in self._cache:
            self._cache["qk"] = (torch.randn(B, T, D), torch.randn(B, T, D))
        return self._cache["qk"]

    def _einsum(self):
        q, k = self._qk()
        return lambda: torch.einsum("btd,bsd->bts", q, k)

    def _bmm(self):
        q, k = self._qk()
        return lambda: torch.bmm(q, k.transpose(1, 2))

    def _stream_add(self):
        # STREAM's "add" kernel with a preallocated output: this machine's bandwidth for a + b.
        # NumPy releases the GIL inside ufunc loops, so n Python threads on n slices run in parallel.
        a, b = self._vec(0).numpy(), self._vec(1).numpy()
        c = np.empty_like(a)
        n = self.threads
        if n == 1:
            return lambda: np.add(a, b, out=c)
        bounds = [N16M * i // n for i in range(n + 1)]
        pool = ThreadPoolExecutor(n)
        parts = [(a[lo:hi], b[lo:hi], c[lo:hi]) for lo, hi in zip(bounds, bounds[1:])]

        def run():
            list(pool.map(lambda p: np.add(p[0], p[1], out=p[2]), parts))

        return run

    def fn(self, case):
        key = ("fn", case)
        if key not in self._cache:
            make, _, _ = self.table[case]
            f = make()
            f()  # first touch: page faults and lazy init stay out of the timed runs
            self._cache[key] = f
        return self._cache[key]

    def sample(self, case, min_time):
        """One sample: iterations grow until a run lasts >= min_time; returns work per second."""
        _, unit, work = self.table[case]
        f = self.fn(case)
        iters = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(iters):
                f()
            dt = time.perf_counter() - t0
            if dt >= min_time:
                return work * iters / dt / 1e9, unit
            # Aim 20% past min_time from the rate seen so far (as Google Benchmark does).
            iters = max(iters + 1, int(iters * min(10.0, 1.2 * min_time / max(dt, 1e-9))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    cases = Cases(args.threads)
    if args.list:
        print("\n".join(cases.table))
        return 0
    if args.serve:
        print(f"ready torch={torch.__version__} numpy={np.__version__} threads={torch.get_num_threads()}", flush=True)
        for line in sys.stdin:
            case = line.strip()
            if not case:
                continue
            if case not in cases.table:
                print(f"{case} error unknown-case", flush=True)
                continue
            value, unit = cases.sample(case, args.min_time)
            print(f"{case} {value:.6g} {unit}", flush=True)
        return 0
    for case in args.cases or list(cases.table):
        cases.sample(case, args.min_time)  # warm-up sample
        values = [cases.sample(case, args.min_time)[0] for _ in range(args.samples)]
        unit = cases.table[case][1]
        print(f"{case} median={statistics.median(values):.4g} min={min(values):.4g} "
              f"max={max(values):.4g} unit={unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
