"""Per-op overhead from Python: ricci vs PyTorch vs numpy (and MLX when installed), one run.

    PYTHONPATH=build/python python3 bench/python_overhead.py

Prints RESULT lines: `RESULT <case> <library> <microseconds per call>`. The 16M-element add is
also timed from C++ by bench/bench_* where built; here it is the Python side of that comparison.
"""
import timeit

import ricci

libs = {"ricci": ricci}
try:
    import torch
    libs["torch"] = torch
except ImportError:
    torch = None
try:
    import numpy as np
    libs["numpy"] = np
except ImportError:
    np = None


def best_us(stmt, number, repeat=7):
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number * 1e6


def report(case, lib, us):
    print(f"RESULT {case} {lib} {us:.3f} us")


def main():
    # a + b on one element
    a1, b1 = ricci.ones(1), ricci.ones(1)
    report("add_1elem", "ricci", best_us(lambda: a1 + b1, 20000))
    if torch:
        ta, tb = torch.ones(1), torch.ones(1)
        report("add_1elem", "torch", best_us(lambda: ta + tb, 20000))
    if np:
        na, nb = np.ones(1, np.float32), np.ones(1, np.float32)
        report("add_1elem", "numpy", best_us(lambda: na + nb, 20000))

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

    # x[1:3, None]
    x = ricci.ones(4, 4)
    report("index_slice_none", "ricci", best_us(lambda: x[1:3, None], 20000))
    if torch:
        tx = torch.ones(4, 4)
        report("index_slice_none", "torch", best_us(lambda: tx[1:3, None], 20000))
    if np:
        nx = np.ones((4, 4), np.float32)
        report("index_slice_none", "numpy", best_us(lambda: nx[1:3, None], 20000))

    # 16M-element float32 add
    n = 16 * 1024 * 1024
    big_a, big_b = ricci.ones(n), ricci.ones(n)
    report("add_16M", "ricci", best_us(lambda: big_a + big_b, 10, repeat=5))
    if torch:
        tba, tbb = torch.ones(n), torch.ones(n)
        report("add_16M", "torch", best_us(lambda: tba + tbb, 10, repeat=5))
    if np:
        nba, nbb = np.ones(n, np.float32), np.ones(n, np.float32)
        report("add_16M", "numpy", best_us(lambda: nba + nbb, 10, repeat=5))


if __name__ == "__main__":
    main()
