"""Cases of the math and nn ops added together: hyperbolic and inverse trigonometric functions,
logaddexp, hypot, nan_to_num; elu/selu/celu/leaky_relu/logsigmoid/mish, softmin; group_norm;
binary_cross_entropy(_with_logits), kl_div, smooth_l1_loss, huber_loss; cosine_similarity.
Extreme inputs (huge logits, domain edges) and gradients at the points where PyTorch picks a
side (kinks, the origin of hypot, the clamps of BCE) are the point of most of them.

Part of the table of make_golden.py; the vocabulary (randn, case, ...) is in dsl.py."""
from dsl import *  # noqa: F401,F403 (the table's vocabulary)

HALVES = ["f16", "bf16"]

# -- hyperbolic and inverse trigonometric functions, each on its domain.
TRIG = {"sinh": (-5, 5), "cosh": (-5, 5), "asinh": (-20, 20), "acosh": (1, 20), "atanh": (-0.99, 0.99),
        "asin": (-1, 1), "acos": (-1, 1), "atan": (-20, 20)}
for op, (lo, hi) in TRIG.items():
    for dt in FLOATS:
        case(dt, op, [uniform(lo, hi, 3, 4, dt=dt)], grad=dt == "f64")
        case(f"{dt}_special", op, [lit(SPECIAL, dt)])
    case("f32_transposed", op, [uniform(lo, hi, 4, 3).t()])
    case("f32_step", op, [uniform(lo, hi, 3, 8).step(1, 2)])
    case("f32_long", op, [uniform(lo, hi, 2, 37)])  # two 16-lane vectors and a tail
    case("f32_empty", op, [randn(0, 3)])
    case("f32_0d", op, [uniform(lo, hi)])
    case("i64", op, [randint(-1 if op in ("atanh", "asin", "acos") else -3, 2 if op != "acosh" else 5, 3, 4)])
    for dt in HALVES:
        case(dt, op, [uniform(lo, hi, 3, 5, dt=dt)])
# Domain edges and their gradients (inf at the ends, NaN outside), acosh just above 1.
case("f64_near_one", "acosh", [lit([1.0, 1.0 + 1e-12, 1.0 + 1e-6, 1.5, 0.5], "f64")], grad=True)
case("f64_ends", "atanh", [lit([1.0, -1.0, 0.5, 1e-300, 2.0], "f64")], grad=True)
case("f64_ends", "asin", [lit([1.0, -1.0, 0.5, 2.0], "f64")], grad=True)
case("f64_ends", "acos", [lit([1.0, -1.0, 0.5, -2.0], "f64")], grad=True)
case("f64_large", "sinh", [lit([700.0, -700.0, 710.0, 1e-300], "f64")], grad=True)
case("f32_large", "cosh", [lit([88.0, -89.0, 90.0, 0.0], "f32")])

# -- logaddexp and hypot.
for op in ["logaddexp", "hypot"]:
    for dt in FLOATS:
        case(dt, op, [randn(3, 4, dt=dt), randn(3, 4, dt=dt).reseed(1)], grad=True)
        case(f"{dt}_bcast", op, [randn(3, 1, dt=dt), randn(4, dt=dt).reseed(1)], grad=True)
    case("f32_transposed", op, [randn(4, 3).t(), randn(3, 4).reseed(1)])
    case("f32_long", op, [randn(2, 37), randn(2, 37).reseed(1)])
    case("f32_empty", op, [randn(0, 3), randn(3).reseed(1)])
    case("promote_f32_f64", op, [randn(3, 4), randn(4, dt="f64").reseed(1)])
    case("promote_i64_f32", op, [randint(-3, 3, 4), randn(4).reseed(1)])
    case("0d_f64_keeps_f32", op, [randn(3), lit(0.5, "f64")])
    for dt in HALVES:
        case(dt, op, [randn(3, 5, dt=dt), randn(3, 5, dt=dt).reseed(1)])
EXTREME_A = [1e4, -1e4, INF, -INF, INF, NAN, 1.0, 800.0, 0.0, -0.0]
EXTREME_B = [1e4, -1e4, INF, -INF, -INF, 1.0, NAN, 0.0, 0.0, 0.0]
for dt in FLOATS:
    case(f"{dt}_extreme", "logaddexp", [lit(EXTREME_A, dt), lit(EXTREME_B, dt)])
    case(f"{dt}_extreme", "hypot", [lit([1e30, 1e-30, INF, NAN, 0.0, -3.0], dt), lit([1e30, 1e-30, NAN, -INF, 0.0, 4.0], dt)])
# Gradients where PyTorch's formulas give special values: a huge gap (1 and 0), equal infinities
# (NaN), hypot at the origin (NaN).
case("f64_extreme_grad", "logaddexp", [lit([1e4, 0.0, INF, -INF, 700.0], "f64"), lit([-1e4, 0.0, INF, -INF, -700.0], "f64")],
     grad=True)
case("f64_origin_grad", "hypot", [lit([0.0, 3.0, 1e-200], "f64"), lit([0.0, -4.0, 1e-200], "f64")], grad=True)

# -- nan_to_num: the defaults are the dtype's largest and lowest values.
NONFIN = [NAN, INF, -INF, 1.5, -0.0, 1e30]
for dt in FLOATS + HALVES:
    case(dt, "nan_to_num", [lit(NONFIN, dt)])
    case(f"{dt}_given", "nan_to_num", [lit(NONFIN, dt)], nan=7.0, posinf=8.0, neginf=-9.0)
case("f32_posinf_overflows", "nan_to_num", [lit(NONFIN, "f32")], posinf=1e300, neginf=-3.5)
case("f32_transposed_neginf_only", "nan_to_num", [Spec("randn_special", ((3, 7), tuple(SPECIAL)), "f32").t()],
     neginf=-1.0)
case("i64", "nan_to_num", [randint(-5, 5, 6)])
case("f64_grad", "nan_to_num", [lit(NONFIN, "f64")], nan=2.0, grad=True)

# -- activations: values (with special values), gradients at their kinks in float64.
ACTS = [("elu", {}), ("elu", {"alpha": 2.5}), ("selu", {}), ("celu", {}), ("celu", {"alpha": 0.5}),
        ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("leaky_relu", {"negative_slope": -0.3}),
        ("logsigmoid", {}), ("mish", {})]
for op, kw in ACTS:
    tag = "_".join(f"{k}{v}" for k, v in kw.items()).replace(".", "p").replace("-", "m")
    tag = f"_{tag}" if tag else ""
    for dt in FLOATS:
        case(f"{dt}{tag}", op, [randn(3, 4, dt=dt)], grad=dt == "f64", **kw)
        case(f"{dt}{tag}_special", op, [lit(SPECIAL, dt)], **kw)
    case(f"f32{tag}_long", op, [randn(2, 37)], **kw)
    case(f"f32{tag}_transposed", op, [randn(4, 3).t()], **kw)
    case(f"f64{tag}_kinks", op, [lit([0.0, -0.0, 1e-8, -1e-8, -1e-300, 30.0, -30.0, 1e4, -1e4], "f64")], grad=True, **kw)
    for dt in HALVES:
        case(f"{dt}{tag}", op, [randn(3, 5, dt=dt)], **kw)
    case(f"f32{tag}_empty", op, [randn(0, 2)], **kw)
    case(f"f32{tag}_0d", op, [randn()], **kw)
# logsigmoid and mish far out, in float32 (where exp overflows at 88).
case("f32_huge", "logsigmoid", [lit([-1e4, 1e4, -100.0, 100.0, -88.5, 88.5], "f32")], grad=True)
case("f32_huge", "mish", [lit([-1e4, 1e4, -100.0, 100.0, -88.5, 88.5], "f32")], grad=True)

# -- softmin.
for dt in FLOATS:
    case(f"{dt}_dlast", "softmin", [randn(3, 5, dt=dt)], dim=-1, grad=True)
    case(f"{dt}_d0", "softmin", [randn(3, 5, dt=dt)], dim=0, grad=True)
case("f32_large", "softmin", [lit([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], "f32")], dim=1)
case("i64_dtype_f64", "softmin", [randint(-3, 3, 2, 4)], dim=1, dtype="float64")

# -- group_norm: (N, C, *) with num_groups; weight and bias optional.
for dt in FLOATS:
    case(f"{dt}", "group_norm", [randn(2, 6, 5, dt=dt), randn(6, dt=dt).reseed(1), randn(6, dt=dt).reseed(2)],
         num_groups=3, grad=True)
    case(f"{dt}_4d_no_affine", "group_norm", [randn(2, 4, 3, 2, dt=dt), None, None], num_groups=2, grad=True)
    case(f"{dt}_one_group_eps", "group_norm", [randn(3, 4, 2, dt=dt), randn(4, dt=dt).reseed(1), None],
         num_groups=1, eps=1e-2, grad=True)
    case(f"{dt}_instance", "group_norm", [randn(2, 4, 6, dt=dt), None, randn(4, dt=dt).reseed(2)], num_groups=4,
         grad=True)
    case(f"{dt}_2d", "group_norm", [randn(5, 6, dt=dt), randn(6, dt=dt).reseed(1), randn(6, dt=dt).reseed(2)],
         num_groups=2, grad=True)
case("f32_transposed", "group_norm", [randn(2, 5, 4).t(1, 2), None, None], num_groups=2)
case("f32_constant_groups", "group_norm", [lit([[[2.0, 2.0], [2.0, 2.0]], [[1e4, 1e4 + 1], [1e4 + 2, 1e4 + 3]]], "f32"),
                                           None, None], num_groups=1)
for dt in HALVES:
    case(dt, "group_norm", [randn(2, 4, 5, dt=dt), randn(4, dt=dt).reseed(1), randn(4, dt=dt).reseed(2)],
         num_groups=2)

# -- binary_cross_entropy: probabilities in (0, 1); the logs clamp at -100.
for dt in FLOATS:
    for red in ["mean", "sum", "none"]:
        case(f"{dt}_{red}", "binary_cross_entropy", [uniform(0.02, 0.98, 3, 4, dt=dt),
                                                     uniform(0, 1, 3, 4, dt=dt).reseed(1), None],
             reduction=red, grad=[0, 1])
    case(f"{dt}_weight", "binary_cross_entropy", [uniform(0.02, 0.98, 3, 4, dt=dt), uniform(0, 1, 3, 4, dt=dt).reseed(1),
                                                  uniform(0.5, 2, 4, dt=dt).reseed(2)], grad=[0, 1])
case("f64_clamped_logs", "binary_cross_entropy", [lit([0.0, 1.0, 0.0, 1.0, 0.5, 1e-50], "f64"),
                                                  lit([1.0, 0.0, 0.0, 1.0, 0.5, 1.0], "f64"), None],
     reduction="none", grad=[0, 1])
case("f32_clamped_logs", "binary_cross_entropy", [lit([0.0, 1.0, 1e-30, 0.999999], "f32"),
                                                  lit([1.0, 0.0, 1.0, 0.0], "f32"), None], reduction="sum",
     grad=[0, 1])
case("f32_transposed", "binary_cross_entropy", [uniform(0.02, 0.98, 4, 3).t(), uniform(0, 1, 4, 3).reseed(1).t(), None])
case("f32_empty", "binary_cross_entropy", [uniform(0, 1, 0, 3), uniform(0, 1, 0, 3).reseed(1), None])
for dt in HALVES:
    case(dt, "binary_cross_entropy", [uniform(0.05, 0.95, 3, 5, dt=dt), uniform(0, 1, 3, 5, dt=dt).reseed(1), None],
         reduction="none")

# -- binary_cross_entropy_with_logits: stable at any logit; pos_weight broadcasts over the batch.
BCEL = "binary_cross_entropy_with_logits"
for dt in FLOATS:
    for red in ["mean", "sum", "none"]:
        case(f"{dt}_{red}", BCEL, [randn(3, 4, dt=dt), uniform(0, 1, 3, 4, dt=dt).reseed(1), None, None],
             reduction=red, grad=[0, 1])
    case(f"{dt}_pos_weight", BCEL, [randn(3, 4, dt=dt), uniform(0, 1, 3, 4, dt=dt).reseed(1), None,
                                    uniform(0.5, 3, 4, dt=dt).reseed(2)], grad=[0, 1])
    case(f"{dt}_both_weights", BCEL, [randn(3, 4, dt=dt), uniform(0, 1, 3, 4, dt=dt).reseed(1),
                                      uniform(0.5, 2, 3, 1, dt=dt).reseed(3), uniform(0.5, 3, 4, dt=dt).reseed(2)],
         reduction="sum", grad=[0, 1])
    case(f"{dt}_extreme", BCEL, [lit([1e4, -1e4, 1e4, -1e4, 50.0, -50.0, 100.0, -100.0], dt),
                                 lit([0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.5, 0.5], dt), None,
                                 lit([2.0], dt)], reduction="none", grad=[0, 1])
case("f32_transposed", BCEL, [randn(4, 3).t(), uniform(0, 1, 4, 3).reseed(1).t(), None, None])
# Mixed dtypes: logsigmoid in the input's dtype, the loss in the target's (PyTorch's in-place steps);
# the float32 logsigmoid (Sleef in PyTorch, the C library in ricci) limits agreement to float32's.
case("mixed_f32_f64", BCEL, [randn(3, 4), uniform(0, 1, 3, 4, dt="f64").reseed(1), None, uniform(0.5, 3, 4, dt="f64")],
     grad=[0, 1], rtol=1e-6, atol=1e-7)
case("mixed_f64_f32", BCEL, [randn(3, 4, dt="f64"), uniform(0, 1, 3, 4).reseed(1), None, None])
for dt in HALVES:
    case(dt, BCEL, [randn(3, 5, dt=dt), uniform(0, 1, 3, 5, dt=dt).reseed(1), None, None], reduction="none")

# -- kl_div: input holds log-probabilities; zero targets add 0 (and a NaN target gradient).
for dt in FLOATS:
    for red in ["mean", "sum", "none", "batchmean"]:
        case(f"{dt}_{red}", "kl_div", [randn(3, 4, dt=dt), uniform(0, 1, 3, 4, dt=dt).reseed(1)], reduction=red,
             grad=True)
    case(f"{dt}_log_target", "kl_div", [randn(3, 4, dt=dt), randn(3, 4, dt=dt).reseed(1)], reduction="batchmean",
         log_target=True, grad=True)
case("f64_zero_and_nan_targets", "kl_div", [randn(5, dt="f64"), lit([0.0, 0.5, NAN, -1.0, 1.0], "f64")],
     reduction="none", grad=True)
case("f64_bcast_target", "kl_div", [randn(3, 4, dt="f64"), uniform(0, 1, 4, dt="f64").reseed(1)], reduction="sum",
     grad=True)
case("f64_0d_batchmean", "kl_div", [lit(-1.0, "f64"), lit(0.5, "f64")], reduction="batchmean", grad=True)
case("f32_transposed", "kl_div", [randn(4, 3).t(), uniform(0, 1, 4, 3).reseed(1).t()], reduction="none")

# -- smooth_l1_loss and huber_loss: gradients at |d| == beta (delta), NaN, beta = 0 (L1).
KINK_X = [0.5, -0.5, NAN, 0.0, 0.25, 3.0, -3.0]
for op, p in [("smooth_l1_loss", "beta"), ("huber_loss", "delta")]:
    for dt in FLOATS:
        for red in ["mean", "sum", "none"]:
            case(f"{dt}_{red}", op, [randn(3, 4, dt=dt), randn(3, 4, dt=dt).reseed(1)], reduction=red, grad=True)
        case(f"{dt}_{p}", op, [randn(3, 4, dt=dt), randn(3, 4, dt=dt).reseed(1)], grad=True, **{p: 0.3})
        case(f"{dt}_kinks", op, [lit(KINK_X, dt), lit([0.0] * len(KINK_X), dt)], reduction="sum", grad=True, **{p: 0.5})
        case(f"{dt}_bcast_target", op, [randn(3, 4, dt=dt), randn(4, dt=dt).reseed(1)], grad=True, **{p: 2.0})
    case("f32_transposed", op, [randn(4, 3).t(), randn(3, 4).reseed(1)], reduction="none")
    case("mixed_f32_f64", op, [randn(3, 4), randn(3, 4, dt="f64").reseed(1)])
    case("mixed_f64_f32", op, [randn(3, 4, dt="f64"), randn(3, 4).reseed(1)])
    for dt in HALVES:
        case(dt, op, [randn(3, 5, dt=dt), randn(3, 5, dt=dt).reseed(1)], reduction="none")
case("f64_l1", "smooth_l1_loss", [lit(KINK_X, "f64"), lit([0.0] * len(KINK_X), "f64")], reduction="sum", beta=0.0,
     grad=True)

# -- cosine_similarity: broadcasting, dims, zero vectors (norm clamped to eps).
for dt in FLOATS:
    case(f"{dt}", "cosine_similarity", [randn(4, 5, dt=dt), randn(4, 5, dt=dt).reseed(1)], grad=True)
    case(f"{dt}_bcast_d0", "cosine_similarity", [randn(5, 1, dt=dt), randn(5, 3, dt=dt).reseed(1)], dim=0, grad=True)
    case(f"{dt}_3d_dlast", "cosine_similarity", [randn(2, 3, 4, dt=dt), randn(3, 4, dt=dt).reseed(1)], dim=-1,
         grad=True)
case("f64_zero_vectors", "cosine_similarity", [lit([[0.0, 0.0], [1e-9, 0.0], [3.0, 4.0]], "f64"),
                                               lit([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]], "f64")], grad=True)
case("f64_eps", "cosine_similarity", [lit([[1e-3, 2e-3], [1.0, 1.0]], "f64"), lit([[1e-3, 1e-3], [2.0, -1.0]], "f64")],
     eps=0.1, grad=True)
case("f32_transposed", "cosine_similarity", [randn(5, 4).t(), randn(4, 5).reseed(1)])
case("i64_f32", "cosine_similarity", [randint(-3, 4, 3, 4), randn(3, 4).reseed(1)])
for dt in HALVES:
    case(dt, "cosine_similarity", [randn(3, 5, dt=dt), randn(3, 5, dt=dt).reseed(1)])
