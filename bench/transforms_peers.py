"""The peers of bench_transforms.cpp: PyTorch (torch.func), and, where installed, JAX and MLX.

Same model, sizes and cases as bench_transforms.cpp, float32, one thread: an MLP 32 -> 64 (tanh)
-> 10, MSE against a random target, weights W1 [32, 64], b1 [64], W2 [64, 10], b2 [10], batch 64.
  per_example_grads_vmap  vmap(grad(loss, argnums=(0, 1, 2, 3)), in_axes=(None,) * 4 + (0, 0))
  per_example_grads_loop  64 grad calls, one per example, stacked
  hvp_jvp_of_grad         jvp(grad(f), (W1,), (v,)): a Hessian-vector product of the batch loss
  grad_transform          grad(loss, argnums=(0, 1, 2, 3)) on the batch
  eager_backward          PyTorch only: loss.backward() with the weights requiring grad (.grad = None first)
JAX: each case both as is (op by op) and under jax.jit (`jax_jit`), with block_until_ready; MLX:
with mx.eval of the results. Prints `<case> <peer> <microseconds per call>` lines (the median of
5 samples of >= 0.2 s each, after a warm-up) and `# ...` comment lines. Python drives every call,
so each figure includes the interpreter's cost. A peer that cannot be imported prints
`<peer>: not installed (<reason>)` and the script goes on.
"""
import os
import sys
import time

from peer_timing import MIN_TIME, SAMPLES, time_us  # noqa: F401

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
# JAX/XLA CPU: one thread for its Eigen pool and intra-op work.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

IN, HIDDEN, OUT, BATCH = 32, 64, 10, 64


def report(case, peer, result):
    med, lo, hi = result
    print(f"# {case} {peer}: min {lo:.4g} max {hi:.4g} us", flush=True)
    print(f"{case} {peer} {med:.6g}", flush=True)


def data(np):
    """The same kind of data as bench_transforms.cpp (values differ: each library has its own RNG)."""
    rng = np.random.default_rng(0)
    f = lambda *s: rng.standard_normal(s).astype("float32")  # noqa: E731
    return dict(W1=f(IN, HIDDEN) / IN**0.5, b1=f(HIDDEN) * 0.1, W2=f(HIDDEN, OUT) / HIDDEN**0.5,
                b2=f(OUT) * 0.1, X=f(BATCH, IN), Y=f(BATCH, OUT), V=f(IN, HIDDEN))


def run_torch():
    import numpy as np
    import torch
    from torch.func import grad, jvp, vmap

    torch.set_num_threads(1)
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}", flush=True)
    d = {k: torch.from_numpy(v) for k, v in data(np).items()}
    W1, b1, W2, b2, X, Y, V = (d[k] for k in ("W1", "b1", "W2", "b2", "X", "Y", "V"))

    def loss(W1, b1, W2, b2, x, y):
        h = torch.tanh(x @ W1 + b1)
        return ((h @ W2 + b2 - y) ** 2).mean()

    g = grad(loss, argnums=(0, 1, 2, 3))
    per = vmap(g, in_dims=(None, None, None, None, 0, 0))
    report("per_example_grads_vmap", "torch", time_us(lambda: per(W1, b1, W2, b2, X, Y)))

    def loop():
        gs = [g(W1, b1, W2, b2, X[i], Y[i]) for i in range(BATCH)]
        return [torch.stack([gi[k] for gi in gs]) for k in range(4)]
    want = loop()
    got = per(W1, b1, W2, b2, X, Y)
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(got, want))
    report("per_example_grads_loop", "torch", time_us(loop))

    f = lambda w: loss(w, b1, W2, b2, X, Y)  # noqa: E731
    report("hvp_jvp_of_grad", "torch", time_us(lambda: jvp(grad(f), (W1,), (V,))))

    report("grad_transform", "torch", time_us(lambda: g(W1, b1, W2, b2, X, Y)))

    ws = [t.clone().requires_grad_() for t in (W1, b1, W2, b2)]

    def backward():
        for t in ws:
            t.grad = None
        loss(*ws, X, Y).backward()
    report("eager_backward", "torch", time_us(backward))


def run_jax():
    try:
        import jax
        import jax.numpy as jnp
        import numpy as np
    except Exception as e:  # ImportError, or a wheel that cannot load here
        print(f"jax: not installed ({type(e).__name__}: {e})", flush=True)
        return
    jax.config.update("jax_platforms", "cpu")
    print(f"# jax {jax.__version__}, devices {jax.devices()}", flush=True)
    d = {k: jnp.asarray(v) for k, v in data(np).items()}
    W1, b1, W2, b2, X, Y, V = (d[k] for k in ("W1", "b1", "W2", "b2", "X", "Y", "V"))

    def loss(W1, b1, W2, b2, x, y):
        h = jnp.tanh(x @ W1 + b1)
        return jnp.mean((h @ W2 + b2 - y) ** 2)

    g = jax.grad(loss, argnums=(0, 1, 2, 3))
    per = jax.vmap(g, in_axes=(None, None, None, None, 0, 0))

    def loop(g):
        gs = [g(W1, b1, W2, b2, X[i], Y[i]) for i in range(BATCH)]
        return [jnp.stack([gi[k] for gi in gs]) for k in range(4)]

    f = lambda w: loss(w, b1, W2, b2, X, Y)  # noqa: E731
    hvp = lambda w, v: jax.jvp(jax.grad(f), (w,), (v,))  # noqa: E731
    cases = [
        ("per_example_grads_vmap", per, lambda fn: fn(W1, b1, W2, b2, X, Y)),
        ("per_example_grads_loop", g, loop),
        ("hvp_jvp_of_grad", hvp, lambda fn: fn(W1, V)),
        ("grad_transform", g, lambda fn: fn(W1, b1, W2, b2, X, Y)),
    ]
    for case, fn, call in cases:
        for peer, h in (("jax", fn), ("jax_jit", jax.jit(fn))):
            report(case, peer, time_us(lambda: jax.block_until_ready(call(h))))


def run_mlx():
    try:
        import mlx.core as mx
        import numpy as np
    except Exception as e:
        print(f"mlx: not installed ({type(e).__name__}: {e})", flush=True)
        return
    mx.set_default_device(mx.cpu)
    print(f"# mlx {mx.__version__}, device {mx.default_device()}", flush=True)
    d = {k: mx.array(v) for k, v in data(np).items()}
    W1, b1, W2, b2, X, Y, V = (d[k] for k in ("W1", "b1", "W2", "b2", "X", "Y", "V"))
    mx.eval(W1, b1, W2, b2, X, Y, V)

    def loss(W1, b1, W2, b2, x, y):
        h = mx.tanh(x @ W1 + b1)
        return mx.mean((h @ W2 + b2 - y) ** 2)

    g = mx.grad(loss, argnums=[0, 1, 2, 3])
    per = mx.vmap(g, in_axes=(None, None, None, None, 0, 0))
    report("per_example_grads_vmap", "mlx", time_us(lambda: mx.eval(per(W1, b1, W2, b2, X, Y))))

    def loop():
        gs = [g(W1, b1, W2, b2, X[i], Y[i]) for i in range(BATCH)]
        out = [mx.stack([gi[k] for gi in gs]) for k in range(4)]
        mx.eval(out)
        return out
    report("per_example_grads_loop", "mlx", time_us(loop))

    f = lambda w: loss(w, b1, W2, b2, X, Y)  # noqa: E731
    report("hvp_jvp_of_grad", "mlx", time_us(lambda: mx.eval(mx.jvp(mx.grad(f), [W1], [V]))))
    report("grad_transform", "mlx", time_us(lambda: mx.eval(g(W1, b1, W2, b2, X, Y))))


def main():
    run_torch()
    run_jax()
    run_mlx()
    return 0


if __name__ == "__main__":
    sys.exit(main())
