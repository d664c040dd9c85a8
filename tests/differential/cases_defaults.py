"""Default arguments against what PyTorch computes, in float16 and bfloat16 above all.

Every case here leaves the argument under test out, on both sides: torch_ops.py then calls PyTorch
without it and test_differential.cpp calls ricci without it, so a ricci default that differs from
PyTorch's (not from PyTorch's documentation: from its result) fails here. Inputs are chosen where a
default shows: values small enough that an eps dominates, values around softplus's threshold,
spreads wide enough that a float16 softmax could overflow if it were not computed in float32.
"""
from dsl import case, lit, randint, randn, uniform

REDUCED = ["f16", "bf16"]

# rms_norm(eps=None): PyTorch computes float16/bfloat16 in float32 and uses float32's epsilon there
# (2^-23, the eps of its compute type), not torch.finfo(float16).eps = 2^-10 as its docs suggest.
# Inputs around 1e-3 (mean square ~1e-7) and 1e-5 make the difference between the two eps visible.
for dt in REDUCED + ["f32", "f64"]:
    case(f"{dt}_default_eps_small", "rms_norm", [uniform(-1e-3, 1e-3, 3, 16, dt=dt), None], normalized_shape=[16])
    case(f"{dt}_default_eps_tiny", "rms_norm", [uniform(-3e-5, 3e-5, 2, 8, dt=dt), None], normalized_shape=[8])
    case(f"{dt}_default_eps_weight", "rms_norm", [uniform(-1e-3, 1e-3, 2, 4, 6, dt=dt), randn(4, 6, dt=dt).reseed(1)],
         normalized_shape=[4, 6])
for dt in REDUCED:
    case(f"{dt}_default_eps_grad", "rms_norm", [uniform(-1e-2, 1e-2, 3, 16, dt=dt), randn(16, dt=dt).reseed(1)],
         normalized_shape=[16], grad=True)
    case(f"{dt}_default_eps_zero_row", "rms_norm", [lit([[0.0] * 5, [1e-4, -1e-4, 2e-4, 0.0, 3e-4]], dt), None],
         normalized_shape=[5])

# layer_norm(eps=1e-5): with a variance near 1e-7 the eps decides the result.
for dt in REDUCED + ["f32"]:
    case(f"{dt}_default_eps_small", "layer_norm", [uniform(-1e-3, 1e-3, 3, 16, dt=dt), None, None], normalized_shape=[16])
    case(f"{dt}_default_eps_affine", "layer_norm",
         [uniform(-3e-3, 3e-3, 2, 3, 8, dt=dt), randn(8, dt=dt).reseed(1), randn(8, dt=dt).reseed(2)], normalized_shape=[8])
# Gradients at unit scale: PyTorch's CPU kernel keeps mean and rstd in float16/bfloat16 for its
# backward (ricci keeps them in float32), and on inputs around 1e-2 the backward's cancellation
# amplifies that rounding to tens of ulps of PyTorch's own error against float64; at unit scale
# both agree with the float64 gradient to the final rounding.
for dt in REDUCED:
    case(f"{dt}_default_eps_grad", "layer_norm",
         [uniform(-1, 1, 3, 16, dt=dt), randn(16, dt=dt).reseed(1), randn(16, dt=dt).reseed(2)],
         normalized_shape=[16], grad=True)

# softmax / log_softmax with dtype=None: a float16 result of a float32 computation, also where exp
# of the raw inputs would overflow float16 (|x| up to 60).
for dt in REDUCED:
    for op in ["softmax", "log_softmax"]:
        case(f"{dt}_default_wide", op, [uniform(-60, 60, 4, 33, dt=dt)], dim=-1)
        case(f"{dt}_default_dim0", op, [uniform(-12, 12, 5, 7, dt=dt)], dim=0, grad=True)

# gelu(approximate="none"), softplus(beta=1, threshold=20): float32 math, one rounding; softplus
# switches to the identity above beta * x > 20.
for dt in REDUCED:
    case(f"{dt}_default", "gelu", [uniform(-6, 6, 3, 21, dt=dt)], grad=True)
    case(f"{dt}_default", "softplus", [uniform(-25, 25, 3, 21, dt=dt)], grad=True)
    case(f"{dt}_default_threshold", "softplus",
         [lit([19.0, 19.5, 19.875, 20.0, 20.125, 20.5, 21.0, -20.0, -30.0, 0.0, 1e-3, -1e-3], dt)])

# var / std (correction=1), norm (p=2), mean: float16/bfloat16 reductions accumulate in float32.
for dt in REDUCED:
    case(f"{dt}_default", "var", [randn(4, 25, dt=dt)])
    case(f"{dt}_default_dims", "var", [uniform(100, 101, 4, 25, dt=dt)], dims=[1])
    case(f"{dt}_default", "std", [randn(4, 25, dt=dt)], grad=True)
    case(f"{dt}_default_dims", "std", [randn(4, 25, dt=dt)], dims=[0])
    case(f"{dt}_default", "norm", [randn(5, 40, dt=dt)], grad=True)
    case(f"{dt}_default_large", "norm", [uniform(200, 300, 64, dt=dt)])
    case(f"{dt}_default_all", "mean", [uniform(-3, 5, 6, 50, dt=dt)], grad=True)

# Losses with every option left at its default (ignore_index=-100 among the targets, mean over the
# counted ones, no label smoothing).
for dt in REDUCED + ["f32"]:
    case(f"{dt}_defaults", "cross_entropy", [randn(6, 5, dt=dt), lit([0, 4, -100, 2, 1, -100], "i64"), None], grad=[0])
    case(f"{dt}_defaults", "nll_loss", [uniform(-3, 0, 6, 5, dt=dt), lit([1, -100, 3, 0, 4, 2], "i64"), None], grad=[0])
    case(f"{dt}_defaults", "mse_loss", [randn(4, 7, dt=dt), randn(4, 7, dt=dt).reseed(1)], grad=True)
case("f32_defaults_probs", "cross_entropy", [randn(4, 3), uniform(0, 1, 4, 3).reseed(1), None], grad=[0])
case("f64_defaults_spatial", "cross_entropy", [randn(2, 4, 3, dt="f64"), randint(0, 4, 2, 3), None], grad=[0])

# scaled_dot_product_attention(scale=None, is_causal=False): scale 1/sqrt(E).
for dt in ["f32", "f64"]:
    case(f"{dt}_defaults", "scaled_dot_product_attention",
         [randn(2, 3, 8, dt=dt), randn(2, 5, 8, dt=dt).reseed(1), randn(2, 5, 4, dt=dt).reseed(2), None], grad=True)
