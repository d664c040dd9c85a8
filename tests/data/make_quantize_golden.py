# Regenerates tests/data/quantize_golden.safetensors: MLX's quantize / dequantize /
# quantized_matmul (affine mode) for every bits x group size, so test_quantize checks ricci's
# layout and numbers against MLX without MLX installed. Needs `pip install mlx` (mlx[cpu] on Linux).
# Packed words are stored as I32 (ricci has no uint32; the bits are MLX's), except "mlx_u32.*",
# kept as MLX writes it (U32) for the loader of MLX files.
import mlx.core as mx
import numpy as np

rng = np.random.default_rng(15)
w = rng.standard_normal((4, 128)).astype(np.float32)
w[2] = 0.0   # a zero group: q0 == 0, bias 0
w[3, :64] = 0.5  # a constant group
w[3, 64:] *= 3.0
x = rng.standard_normal((3, 128)).astype(np.float32)
wt = rng.standard_normal((32, 128)).astype(np.float32)  # (K, N) quantized along N for transpose=False
xt = rng.standard_normal((3, 32)).astype(np.float32)

out = {"w": mx.array(w), "x": mx.array(x), "wt": mx.array(wt), "xt": mx.array(xt)}

def as_i32(a):
    return mx.array(np.array(a).view(np.int32))

for bits in (2, 3, 4, 5, 6, 8):
    for gs in (32, 64, 128):
        k = f"b{bits}_g{gs}"
        wq, s, b = mx.quantize(mx.array(w), group_size=gs, bits=bits)
        out[k + ".weight"], out[k + ".scales"], out[k + ".biases"] = as_i32(wq), s, b
        out[k + ".deq"] = mx.dequantize(wq, s, b, group_size=gs, bits=bits)
        out[k + ".qmm"] = mx.quantized_matmul(mx.array(x), wq, s, b, transpose=True, group_size=gs, bits=bits)
        tq, ts, tb = mx.quantize(mx.array(wt), group_size=gs, bits=bits)
        out[k + ".t.weight"], out[k + ".t.scales"], out[k + ".t.biases"] = as_i32(tq), ts, tb
        out[k + ".t.qmm"] = mx.quantized_matmul(mx.array(xt), tq, ts, tb, transpose=False, group_size=gs, bits=bits)

wb = mx.array(w).astype(mx.bfloat16)
wq, s, b = mx.quantize(wb, group_size=64, bits=4)
out["bf16.w"], out["bf16.weight"], out["bf16.scales"], out["bf16.biases"] = wb, as_i32(wq), s, b
out["bf16.deq"] = mx.dequantize(wq, s, b, group_size=64, bits=4)
wq, s, b = mx.quantize(mx.array(w), group_size=64, bits=4)
out["mlx_u32.weight"], out["mlx_u32.scales"], out["mlx_u32.biases"] = wq, s, b
mx.eval(out)
mx.save_safetensors("tests/data/quantize_golden.safetensors", out)
print(len(out), "tensors")
