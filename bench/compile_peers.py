"""The compile benchmarks of bench/bench_compile.cpp in PyTorch (eager and torch.compile, inductor
on the CPU) and MLX (eager and mx.compile), one thread. Prints `PEER <case> <impl>=<ms>` lines."""
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


def chain20(y):
    for i in range(20):
        y = y * 1.001 if i % 3 == 0 else (y + 0.25 if i % 3 == 1 else y.tanh())
    return y


def torch_cases():
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        print(f"# torch: not installed ({e})")
        return
    torch.set_num_threads(1)
    x = torch.randn(N)
    c = x[: 1 << 22].clone()
    print(f"PEER gelu_16M torch_eager={timeit(lambda: gelu(x)):.2f}")
    print(f"PEER chain20_4M torch_eager={timeit(lambda: chain20(c)):.2f}")
    try:
        g = torch.compile(gelu)
        ch = torch.compile(chain20)
        t0 = time.perf_counter()
        g(x)
        first = time.perf_counter() - t0
        print(f"PEER gelu_16M torch_compile={timeit(lambda: g(x)):.2f} first_call_ms={1e3 * first:.0f}")
        print(f"PEER chain20_4M torch_compile={timeit(lambda: ch(c)):.2f}")
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

    def mchain(y):
        for i in range(20):
            y = y * 1.001 if i % 3 == 0 else (y + 0.25 if i % 3 == 1 else mx.tanh(y))
        return y

    print(f"PEER gelu_16M mlx_eager={timeit(run(mgelu, x)):.2f}")
    print(f"PEER gelu_16M mlx_compile={timeit(run(mx.compile(mgelu), x)):.2f}")
    print(f"PEER chain20_4M mlx_eager={timeit(run(mchain, c)):.2f}")
    print(f"PEER chain20_4M mlx_compile={timeit(run(mx.compile(mchain), c)):.2f}")


if __name__ == "__main__":
    torch_cases()
    mlx_cases()
