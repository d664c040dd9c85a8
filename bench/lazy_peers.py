"""The peers of bench_lazy.cpp: PyTorch eager and, where installed, MLX (lazy by design).

Same cases and sizes as bench_lazy.cpp, one thread:
  add_tiny           a + b on 1-element float32 tensors (MLX: mx.eval(a + b), record + eval)
  add_tiny_record    MLX only: recording a + b without evaluating it
  chain1000_256x256  1,000 ops on a (256, 256) float32 tensor, alternately y * 1.0001 and y + 0.5
                     (MLX: record all, then mx.eval)
  mlp_step_128_64_10_b8
                     examples/mlp/mlp.h's training step: Linear(128, 64) -> ReLU -> Linear(64, 10),
                     cross-entropy, AdamW(lr 1e-3, weight decay 1e-2), batch 8, and loss.item()

Prints `<case> <peer> <microseconds per call>` lines (the median of 5 samples of >= 0.2 s each,
after a warm-up), and `# ...` comment lines. Python calls these from an interpreter loop, so
every figure includes Python's own cost per call; `python_loop` gives that cost for an empty body.
Without MLX it prints `mlx: not installed (<reason>)` and goes on.
"""
import os
import sys
import time

from peer_timing import MIN_TIME, SAMPLES, time_us  # noqa: F401

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

CHAIN_OPS = 1000


def report(case, peer, result):
    med, lo, hi = result
    print(f"# {case} {peer}: min {lo:.4g} max {hi:.4g} us", flush=True)
    print(f"{case} {peer} {med:.6g}", flush=True)


def tiny_loop(fn, reps=1000):
    def body():
        for _ in range(reps):
            fn()
    return body, reps


def empty_loop():
    body, reps = tiny_loop(lambda: None)
    report("python_loop", "python", time_us(body, reps))


def run_torch():
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}", flush=True)
    a = torch.full((1,), 1.0)
    b = torch.full((1,), 2.0)
    body, reps = tiny_loop(lambda: a + b)
    report("add_tiny", "torch", time_us(body, reps))

    torch.manual_seed(0)
    x = torch.randn(256, 256)

    def chain():
        y = x
        for i in range(CHAIN_OPS):
            y = y + 0.5 if i & 1 else y * 1.0001
        return y
    report("chain1000_256x256", "torch", time_us(chain))

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    data = torch.randn(8, 128)
    target = (data @ torch.randn(128, 10)).argmax(1)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(data), target)
        loss.backward()
        opt.step()
        return loss.item()
    report("mlp_step_128_64_10_b8", "torch", time_us(step))


def run_mlx():
    try:
        import mlx.core as mx
        import mlx.nn as nn
        import mlx.optimizers as optim
    except Exception as e:  # ImportError, or a wheel that cannot load here
        print(f"mlx: not installed ({type(e).__name__}: {e})", flush=True)
        return
    mx.set_default_device(mx.cpu)
    print(f"# mlx {mx.__version__}, device {mx.default_device()}", flush=True)
    a = mx.full((1,), 1.0, dtype=mx.float32)
    b = mx.full((1,), 2.0, dtype=mx.float32)
    mx.eval(a, b)
    body, reps = tiny_loop(lambda: a + b)  # recorded, then dropped unevaluated
    report("add_tiny_record", "mlx", time_us(body, reps))
    body, reps = tiny_loop(lambda: mx.eval(a + b))
    report("add_tiny", "mlx", time_us(body, reps))

    mx.random.seed(0)
    x = mx.random.normal((256, 256), dtype=mx.float32)
    mx.eval(x)

    def chain():
        y = x
        for i in range(CHAIN_OPS):
            y = y + 0.5 if i & 1 else y * 1.0001
        mx.eval(y)
        return y
    report("chain1000_256x256", "mlx", time_us(chain))

    class TwoLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(128, 64)
            self.fc2 = nn.Linear(64, 10)

        def __call__(self, v):
            return self.fc2(nn.relu(self.fc1(v)))

    model = TwoLayer()
    mx.eval(model.parameters())
    opt = optim.AdamW(learning_rate=1e-3, weight_decay=1e-2)
    data = mx.random.normal((8, 128))
    target = mx.argmax(data @ mx.random.normal((128, 10)), axis=1)
    mx.eval(data, target)

    def loss_fn(m, v, t):
        return nn.losses.cross_entropy(m(v), t, reduction="mean")
    loss_and_grad = nn.value_and_grad(model, loss_fn)

    def step():
        loss, grads = loss_and_grad(model, data, target)
        opt.update(model, grads)
        mx.eval(model.parameters(), opt.state)
        return loss.item()
    report("mlp_step_128_64_10_b8", "mlx", time_us(step))


def main():
    empty_loop()
    run_torch()
    run_mlx()
    return 0


if __name__ == "__main__":
    sys.exit(main())
