"""The lesson "Tensors, Autograd, PyTorch & MLX" in Python, with ricci: its PyTorch samples
(examples/tour/main.cpp is the C++ version and prints the same numbers) and its MLX samples
(lazy evaluation, eval, grad / value_and_grad / vmap of Python functions).

    PYTHONPATH=build/python python3 examples/python/tour.py
"""
import os
import time

import ricci
import ricci.nn as nn
import ricci.nn.functional as F


def section(title):
    print(f"\n=== {title} ===")


def tensors_and_strides():
    section("A tensor is an n-dimensional array with metadata")
    x = ricci.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    print(x.shape, x.dtype, x.device)  # (2, 3) ricci.float32 cpu

    section("Tensor anatomy: storage, shape, strides")
    y = ricci.arange(6).reshape(2, 3)
    print(y.shape, y.stride())             # (2, 3) (3, 1)
    print(y.T.shape, y.T.stride())         # (3, 2) (1, 3)  same storage
    print(y.T.is_contiguous())             # False
    print(y.T.contiguous().stride())       # (2, 1)  copied to a new buffer
    print("T shares storage:", y.T.shares_storage_with(y),
          ", T.contiguous() shares storage:", y.T.contiguous().shares_storage_with(y))

    section("view is strict, reshape is friendly")
    try:
        y.T.view(6)
    except RuntimeError as e:
        print("y.T.view(6) ->", e)
    print("y.T.reshape(6) ->", y.T.reshape(6))

    section("Reshape, view, transpose, permute")
    z = ricci.arange(24).reshape(2, 3, 4)
    print(z.shape, "strides", z.stride())                      # (12, 4, 1)
    print(z.view(6, 4).shape)                                  # (6, 4)
    print(z.transpose(0, 1).shape, "strides", z.transpose(0, 1).stride(),
          "contiguous", z.transpose(0, 1).is_contiguous())     # (4, 12, 1) False
    print(z.permute(2, 0, 1).shape)                            # (4, 2, 3)


def dtypes_and_memory():
    section("dtype: bytes per number")
    x = ricci.randn(1024, 4096, dtype=ricci.bfloat16)
    print(x.numel() * x.element_size(), "bytes")  # 8388608
    for b in (7, 13):
        print(f"{b}B params:" + "".join(f"  {n} {b * s:g} GB" for n, s in
                                        [("fp32", 4), ("bf16", 2), ("int8", 1), ("int4", 0.5)]))
    big = ricci.tensor([1e38, 70000.0])
    print("as bfloat16:", big.to(ricci.bfloat16))
    print("as float16: ", big.to(ricci.float16))


def devices():
    section("device: where the tensor lives")
    print("cuda available:", ricci.cuda.is_available())
    if not ricci.cuda.is_available():
        print("(no GPU here: the PCIe-copy samples of the lesson are skipped)")
        try:
            ricci.zeros(2).to("cuda")
        except RuntimeError as e:
            print('a.to("cuda") ->', e)
    else:
        x_gpu = ricci.randn(1000, 1000).to("cuda")
        y = x_gpu @ x_gpu.T
        print("y on", y.device, ", back on", y.cpu().device)


def operations():
    section("Element-wise")
    print(ricci.tensor([1, 2, 3]) + ricci.tensor([10, 20, 30]))  # tensor([11, 22, 33])

    section("Reductions")
    a = ricci.tensor([[1, 2, 3], [4, 5, 6]], dtype=ricci.float32)
    print(a.sum(dim=-1))  # tensor([ 6., 15.])
    print(a.sum(dim=0))   # tensor([5., 7., 9.])
    print(a.sum())        # tensor(21.)

    section("Matmul")
    A, W = ricci.randn(8, 16), ricci.randn(16, 4)
    print((A @ W).shape)                       # (8, 4)
    print((ricci.randn(2, 8, 16) @ W).shape)   # (2, 8, 4)  batch dim flows through

    section("Broadcasting")
    print((ricci.randn(8, 1, 4) + ricci.randn(3, 4)).shape)  # (8, 3, 4)
    print((ricci.randn(2, 5, 8) + ricci.randn(8)).shape)     # (2, 5, 8)
    try:
        ricci.zeros(3, 4) + ricci.zeros(2, 4)
    except ValueError as e:
        print("(3,4) + (2,4) ->", e)

    section("einsum")
    P, Q = ricci.randn(3, 4), ricci.randn(4, 5)
    print("ij,jk->ik equals A@B:", ricci.allclose(ricci.einsum("ij,jk->ik", P, Q), P @ Q))
    Pb, Qb = ricci.randn(2, 3, 4), ricci.randn(2, 4, 5)
    print("bij,bjk->bik equals bmm:", ricci.allclose(ricci.einsum("bij,bjk->bik", Pb, Qb), Pb.bmm(Qb)))
    Qa, K = ricci.randn(2, 5, 8), ricci.randn(2, 5, 8)
    scores = ricci.einsum("btd,bsd->bts", Qa, K)
    print("scores", scores.shape, "equals Q @ K^T:", ricci.allclose(scores, Qa @ K.transpose(-1, -2), 1e-5, 1e-5))
    u, v = ricci.tensor([1.0, 2.0]), ricci.tensor([3.0, 4.0, 5.0])
    print("outer:\n" + str(ricci.einsum("i,j->ij", u, v)))
    M = ricci.arange(9, dtype=ricci.float32).reshape(3, 3)
    print("trace ii->", ricci.einsum("ii->", M))  # tensor(12.)


def autograd_dag():
    section("A worked DAG with a branch")
    a = ricci.tensor(2.0, requires_grad=True)
    b = ricci.tensor(3.0, requires_grad=True)
    c = a * b
    d = a + b
    e = c * d
    L = e ** 2
    L.backward()
    print(a.grad)  # tensor(1260.)
    print(b.grad)  # tensor(960.)
    print("c.grad_fn =", c.grad_fn.name(), ", d.grad_fn =", d.grad_fn.name())

    section("Exercise 5: L = e^3")
    a3, b3 = ricci.tensor(2.0, requires_grad=True), ricci.tensor(3.0, requires_grad=True)
    e3 = (a3 * b3) * (a3 + b3)
    (e3 ** 3).backward()
    print("dL/da = 3e^2 (d*b + c) = 3*900*21 =", a3.grad)  # 56700
    print("dL/db = 3e^2 (d*a + c) = 3*900*16 =", b3.grad)  # 43200

    section("Exercise 6: branching gradient accumulation")
    x = ricci.tensor(2.0, requires_grad=True)
    y = x * x + x
    y.backward()
    print(x.grad)  # tensor(5.)

    section("Why grads accumulate (and why you call zero_grad)")
    w = ricci.tensor(1.0, requires_grad=True)
    (w * 3).backward()
    (w * 3).backward()
    print("after two backward calls:", w.grad)  # tensor(6.)
    w.grad = None
    (w * 3).backward()
    print("after reset and one more:", w.grad)  # tensor(3.)


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def modules_and_training():
    section("nn.Module, state_dict and a training step")
    model = TinyMLP()
    print([(n, p.shape) for n, p in model.named_parameters()])
    opt = ricci.optim.SGD(model.parameters(), lr=0.1)
    x, target = ricci.randn(16, 4), ricci.randint(0, 2, (16,))
    for step in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        print(f"step {step}: loss {loss.item():.4f}")


def inference_mode_timing():
    section("Exercise 7: inference_mode timing (Linear on the CPU)")
    n = 256 if os.environ.get("RICCI_DEMO_QUICK") else 1024
    layer, xin = nn.Linear(n, n), ricci.randn(n, n)

    def best(fn):
        t = []
        for _ in range(5):
            t0 = time.perf_counter()
            fn()
            t.append(time.perf_counter() - t0)
        return min(t) * 1e3

    print(f"  with autograd: {best(lambda: layer(xin).relu()):.2f} ms")
    with ricci.no_grad():
        print(f"        no_grad: {best(lambda: layer(xin).relu()):.2f} ms")
    with ricci.inference_mode():
        print(f" inference_mode: {best(lambda: layer(xin).relu()):.2f} ms")


def mlx_lazy_and_transforms():
    section("MLX: lazy evaluation (ricci.lazy, ricci.eval)")
    x = ricci.randn(3, 4)
    with ricci.lazy():        # ops record a graph, compute nothing
        y = x * 2 + 1
    s = ricci.pending_stats(y)
    print(f"pending: {s.nodes} ops, {s.bytes} bytes to allocate")  # 2 ops, 96 bytes
    ricci.eval(y)             # forces evaluation
    print("after eval:", ricci.pending_stats(y).nodes, "pending")
    with ricci.lazy():
        z = x * 2 + 1
    print(z)                  # printing also forces evaluation
    print("same values:", ricci.allclose(y, z, 0.0, 0.0))

    section("Lazy eval tax: force eval before stopping the timer")
    n = 512 if os.environ.get("RICCI_DEMO_QUICK") else 4096
    a = ricci.randn(n, n)
    with ricci.lazy():
        t0 = time.perf_counter()
        g = a @ a.T           # graph built, not run
        record_ms = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        ricci.eval(g)         # actually run
        total_ms = record_ms + (time.perf_counter() - t0) * 1e3
    print(f"{n}x{n} x @ x.T: without eval {record_ms:.3f} ms (graph construction only), with eval {total_ms:.3f} ms")

    section("MLX: function transforms (grad, value_and_grad, vmap)")

    def loss_fn(params, x, target):
        pred = x @ params["w"] + params["b"]
        return ((pred - target) ** 2).mean()

    params = {"w": ricci.randn(128, 64) * 0.01, "b": ricci.zeros(64)}
    x, target = ricci.randn(8, 128), ricci.randn(8, 64)
    grad_fn = ricci.grad(loss_fn)  # new function: returns dloss/dparams, a dict like params
    grads = grad_fn(params, x, target)
    print({k: g.shape for k, g in grads.items()})
    loss, grads = ricci.value_and_grad(loss_fn)(params, x, target)
    params = {k: params[k] - 0.1 * grads[k] for k in params}   # no zero_grad: each call is fresh
    ricci.eval(params)
    print(f"loss {loss.item():.4f} -> {loss_fn(params, x, target).item():.4f} after one step")
    per_example = ricci.vmap(ricci.grad(lambda row: (row ** 2).sum()))(ricci.tensor([[1.0, 2.0], [3.0, 4.0]]))
    print("vmap(grad(sum x^2)):", per_example)  # tensor([[2., 4.], [6., 8.]])

    section("MLX: compile")

    def gelu_fn(x):
        return 0.5 * x * (1 + ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh())

    fast = ricci.compile(gelu_fn)  # traced on the first call, the elementwise chain fused
    print("compiled gelu at -1, 0, 1, 2:", fast(ricci.tensor([-1.0, 0.0, 1.0, 2.0])))
    x = ricci.randn(1 << 20)
    diff = (fast(x) - gelu_fn(x)).abs().max().item()
    print(f"largest difference from eager on 1M values: {diff:g}")


if __name__ == "__main__":
    ricci.manual_seed(0)
    tensors_and_strides()
    dtypes_and_memory()
    devices()
    operations()
    autograd_dag()
    modules_and_training()
    inference_mode_timing()
    mlx_lazy_and_transforms()
