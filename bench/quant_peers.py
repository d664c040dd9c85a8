"""Peers of bench/bench_quant.cpp: PyTorch (float32 / bfloat16 Linear, dynamically quantized int8
Linear via torch.ao.quantization.quantize_dynamic) and MLX (quantized_matmul, group size 64) on
the same shapes: one row x (1, 4096) @ W^T with W 4096 x 4096 (decode) at 1 and 2 threads, and
512 x 4096 @ W^T (prefill) at 2 threads. Prints `<case> <peer> <microseconds>` lines; peers that
are not installed print `<peer>: not installed`. MLX's CPU backend picks its own threads."""
import time

from peer_timing import time_us

N = K = 4096
ROWS = 512


def slow_us(body):
    """For calls of a second or more (MLX's CPU prefill): the faster of two runs after one warm-up."""
    body()
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - t0)
    return best * 1e6


def out(case, peer, us):
    print(f"{case} {peer} {us:.4g}", flush=True)


try:
    import torch
except ImportError:
    torch = None
    print("torch: not installed")

if torch is not None:
    print(f"# torch {torch.__version__}")
    torch.manual_seed(0)
    lin = torch.nn.Linear(K, N, bias=False).eval()
    with torch.no_grad():
        lin.weight.mul_(0.02 / lin.weight.std())
    qlin = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear}, dtype=torch.qint8).eval()
    blin = torch.nn.Linear(K, N, bias=False).eval().to(torch.bfloat16)
    x = torch.randn(1, K)
    xb = x.to(torch.bfloat16)
    xp = torch.randn(ROWS, K)
    with torch.inference_mode():
        for threads in (1, 2):
            torch.set_num_threads(threads)
            out(f"matvec_f32_t{threads}", "torch", time_us(lambda: lin(x))[0])
            out(f"matvec_bf16_t{threads}", "torch", time_us(lambda: blin(xb))[0])
            us = time_us(lambda: qlin(x))[0]
            out(f"matvec_int8_t{threads}", "torch", us)
            out(f"matvec_int4_t{threads}", "torch", us)  # PyTorch's CPU has no 4-bit Linear: its int8 is the peer
        torch.set_num_threads(2)
        us = time_us(lambda: qlin(xp))[0]
        out("prefill_int8", "torch", us)
        out("prefill_int4", "torch", us)
        out("prefill_f32", "torch", time_us(lambda: lin(xp))[0])

try:
    import mlx.core as mx
except ImportError:
    mx = None
    print("mlx: not installed")

if mx is not None:
    print(f"# mlx {mx.__version__}")
    mx.set_default_device(mx.cpu)
    mx.random.seed(0)
    w = mx.random.normal((N, K)) * 0.02
    x = mx.random.normal((1, K))
    xp = mx.random.normal((ROWS, K))
    wb = w.astype(mx.bfloat16)
    xb = x.astype(mx.bfloat16)
    mx.eval(w, x, xp, wb, xb)
    for bits in (4, 8):
        wq, s, b = mx.quantize(w, group_size=64, bits=bits)
        mx.eval(wq, s, b)
        us = time_us(lambda: mx.eval(mx.quantized_matmul(x, wq, s, b, transpose=True, group_size=64, bits=bits)))[0]
        out(f"matvec_int{bits}_t1", "mlx", us)
        out(f"matvec_int{bits}_t2", "mlx", us)
        out(f"prefill_int{bits}", "mlx",
            slow_us(lambda: mx.eval(mx.quantized_matmul(xp, wq, s, b, transpose=True, group_size=64, bits=bits))))
    us = time_us(lambda: mx.eval(x @ w.T))[0]
    out("matvec_f32_t1", "mlx", us)
    out("matvec_f32_t2", "mlx", us)
    us = time_us(lambda: mx.eval(xb @ wb.T))[0]
    out("matvec_bf16_t1", "mlx", us)
    out("matvec_bf16_t2", "mlx", us)
    out("prefill_f32", "mlx", time_us(lambda: mx.eval(xp @ w.T))[0])
