"""The compile benchmarks of bench/bench_compile.cpp in PyTorch (eager and torch.compile, inductor
on the CPU) and MLX (eager and mx.compile), one thread. Prints `PEER <case> <impl>=<ms>` lines (medians)."""
import time

N = 1 << 24


def timeit(fn, reps=5):
    fn()
    best = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t0)
    best.sort()
    return 1e3 * best[len(best) // 2]


def gelu(x):
    return 0.5 * x * (1 + ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh())


CHAIN20 = "tmasbndtmsatbmdnastm"  # the fixed random draw of bench/bench_compile.cpp


def chain20(y, tanh=lambda v: v.tanh(), sigmoid=lambda v: v.sigmoid(), absf=lambda v: v.abs()):
    for c in CHAIN20:
        if c == "m":
            y = y * 1.001
        elif c == "a":
            y = y + 0.25
        elif c == "t":
            y = tanh(y)
        elif c == "s":
            y = sigmoid(y)
        elif c == "n":
            y = -y
        elif c == "b":
            y = absf(y)
        else:
            y = y / 1.5
    return y


def norm_rows(x):
    d = x - x.mean(-1, keepdim=True)
    return d * ((d * d).mean(-1, keepdim=True) + 1e-5).rsqrt()


def softmax_rows(x, exp, amax, sum_):
    e = exp(x - amax(x))
    return e / sum_(e)


def torch_cases():
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        print(f"# torch: not installed ({e})")
        return
    torch.set_num_threads(1)
    x = torch.randn(N)
    c = x[: 1 << 22].clone()
    m = x.view(4096, 4096)
    tsoft = lambda v: softmax_rows(v, torch.exp, lambda a: a.amax(-1, keepdim=True), lambda a: a.sum(-1, keepdim=True))  # noqa: E731
    tln = lambda v: torch.nn.functional.layer_norm(v, (4096,))  # noqa: E731
    cases = [("gelu_16M", gelu, x), ("chain20_4M", chain20, c), ("norm_rows_4096", norm_rows, m),
             ("softmax_rows_4096", tsoft, m), ("layer_norm_op_4096", tln, m)]
    for name, f, a in cases:
        print(f"PEER {name} torch_eager={timeit(lambda: f(a)):.2f}")
    try:
        for name, f, a in cases:
            g = torch.compile(f)
            t0 = time.perf_counter()
            g(a)
            first = time.perf_counter() - t0
            print(f"PEER {name} torch_compile={timeit(lambda: g(a)):.2f}")
            print(f"# torch.compile {name}: first call {1e3 * first:.0f} ms")
    except Exception as e:  # noqa: BLE001
        print(f"# torch.compile failed: {type(e).__name__}: {e}")


def mlx_cases():
    try:
        import mlx.core as mx
    except Exception as e:  # noqa: BLE001
        print(f"# mlx: not installed ({e})")
        return
    x = mx.random.normal((N,))
    c = x[: 1 << 22]
    mx.eval(x, c)

    def run(f, a):
        return lambda: mx.eval(f(a))

    def mgelu(v):
        return 0.5 * v * (1 + mx.tanh((v + 0.044715 * v * v * v) * 0.7978845608028654))

    mchain = lambda y: chain20(y, mx.tanh, mx.sigmoid, mx.abs)  # noqa: E731
    m = x.reshape(4096, 4096)
    mx.eval(m)

    def mnorm(v):
        d = v - mx.mean(v, axis=-1, keepdims=True)
        return d * mx.rsqrt(mx.mean(d * d, axis=-1, keepdims=True) + 1e-5)

    msoft = lambda v: softmax_rows(v, mx.exp, lambda a: mx.max(a, axis=-1, keepdims=True),  # noqa: E731
                                   lambda a: mx.sum(a, axis=-1, keepdims=True))
    mln = lambda v: mx.fast.layer_norm(v, None, None, 1e-5)  # noqa: E731
    cases = [("gelu_16M", mgelu, x), ("chain20_4M", mchain, c), ("norm_rows_4096", mnorm, m),
             ("softmax_rows_4096", msoft, m), ("layer_norm_op_4096", mln, m)]
    for name, f, a in cases:
        print(f"PEER {name} mlx_eager={timeit(run(f, a)):.2f}")
        print(f"PEER {name} mlx_compile={timeit(run(mx.compile(f), a)):.2f}")

if __name__ == "__main__":
    torch_cases()
    mlx_cases()
