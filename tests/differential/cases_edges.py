"""Cases across families: SIMD-length rows, float16/bfloat16, layouts, mixed dtypes, numerically
hard inputs, and gradients at kinks and domain edges.

Part of the table of make_golden.py; the vocabulary (randn, case, ...) is in dsl.py."""
from dsl import *  # noqa: F401,F403 (the table's vocabulary)

# -- longer rows (42 float32 elements: two 16-lane SIMD vectors and a tail) with special values at
# every lane position, so the vectorised kernels are compared, not only their scalar tails. (The
# 18 SPECIAL values already span a float64 vector or two.)
def long(dt="f32", specials=tuple(SPECIAL)):
    return Spec("randn_special", ((2, 21), specials), dt)


for op in FLOAT_UNARY + ["gelu"]:
    # float32 gelu: PyTorch gives NaN at +inf (see cases_elementwise.py), so +inf is left out
    case("f32_long", op, [long(specials=tuple(v for v in SPECIAL if v != INF)) if op == "gelu" else long()])
    case("f32_long_transposed", op, [Spec("randn_special", ((21, 2), tuple(SPECIAL)), "f32").t()])
for op in ARITH + ["eq", "lt", "ge"]:
    case("f32_long", op, [long(), long().reseed(1)])
    case("f32_long_bcast", op, [randn(2, 1), long().reseed(1)])
for op, kw in [("sum", {"dims": [1]}), ("mean", {"dims": [0]}), ("amax", {"dims": [1]}), ("logsumexp", {"dims": [1]}),
               ("var", {"dims": [1]}), ("norm", {"dims": [1]}), ("cumsum", {"dim": 1}), ("argmax", {"dim": 1}),
               ("softmax", {"dim": 1}), ("log_softmax", {"dim": 1}), ("softmax", {"dim": 0})]:
    for dt in FLOATS:
        tag = f"{dt}_long" + ("_d0" if kw.get("dim") == 0 or kw.get("dims") == [0] else "")
        case(tag, op, [randn(2, 37, dt=dt)], **kw)
        case(f"{tag}_nan", op, [long(dt)], **kw)
for dt in FLOATS:
    case(f"{dt}_long", "layer_norm", [randn(2, 37, dt=dt), randn(37, dt=dt).reseed(1), None], normalized_shape=[37],
         grad=True)
    case(f"{dt}_long", "rms_norm", [randn(2, 37, dt=dt), None], normalized_shape=[37], grad=True)
    # K = 19: BLAS and PyTorch sum in different orders, a few float32 ulps apart.
    case(f"{dt}_blocked", "matmul", [randn(17, 19, dt=dt), randn(19, 23, dt=dt).reseed(1)],
         rtol=1e-5 if dt == "f32" else None)
case("i64_blocked", "matmul", [randint(-9, 9, 9, 17), randint(-9, 9, 17, 13).reseed(1)])
case("i32_blocked_transposed", "mm", [randint(-9, 9, 17, 9, dt="i32").t(), randint(-9, 9, 17, 13, dt="i32")])

# -- float16 / bfloat16: ricci computes in float32 and rounds once, as PyTorch's CPU kernels do.
for dt in ["f16", "bf16"]:
    for op in ["exp", "tanh", "sigmoid", "gelu", "sqrt", "log", "silu", "erf", "round", "reciprocal"]:
        case(dt, op, [randn(3, 29, dt=dt)])
    for op in ["add", "mul", "div", "maximum", "pow", "remainder"]:
        case(dt, op, [uniform(0.5, 2, 3, 29, dt=dt), randn(29, dt=dt).reseed(1)])
    case(f"{dt}_scalar", "mul", [randn(3, 29, dt=dt)], scalar=2.5)
    for op, kw in [("sum", {"dims": [1]}), ("mean", {}), ("amax", {"dims": [0]}), ("cumsum", {"dim": 1}),
                   ("softmax", {"dim": 1}), ("log_softmax", {"dim": -1}), ("logsumexp", {"dims": [1]})]:
        case(dt, op, [randn(3, 29, dt=dt)], **kw)
    case(dt, "layer_norm", [randn(3, 29, dt=dt), randn(29, dt=dt).reseed(1), randn(29, dt=dt).reseed(2)],
         normalized_shape=[29])
    case(dt, "rms_norm", [randn(3, 29, dt=dt), randn(29, dt=dt).reseed(1)], normalized_shape=[29])
    case(dt, "matmul", [randn(5, 17, dt=dt), randn(17, 6, dt=dt).reseed(1)])
    case(dt, "linear", [randn(2, 3, 17, dt=dt), randn(5, 17, dt=dt).reseed(1), randn(5, dt=dt).reseed(2)])
    case(f"{dt}_grad", "sigmoid", [randn(3, 29, dt=dt)], grad=True)
case("promote_f16_bf16", "add", [randn(6, dt="f16"), randn(6, dt="bf16").reseed(1)])
case("promote_bf16_i64", "mul", [randn(6, dt="bf16"), randint(-3, 3, 6)])

# -- more edges.
case("u8_negative_scalar", "lt", [randint(0, 9, 6, dt="u8")], scalar=-1)
case("u8_negative_scalar", "add", [randint(0, 9, 6, dt="u8")], scalar=-1)
case("i64_negative_exponent", "pow", [lit([2, 1, -1, 3, -2], "i64"), lit([-1, -2, -3, -1, 0], "i64")])
case("f32_inf_and_zero", "fmod", [lit([1.0, INF, -3.0, 0.0, 5.5], "f32"), lit([INF, 2.0, 0.0, 0.0, -2.0], "f32")])
case("f32_inf_and_zero", "remainder", [lit([1.0, -1.0, INF, -3.0, 0.0, 5.5], "f32"),
                                       lit([INF, INF, 2.0, 0.0, -2.0, -2.0], "f32")])
case("i64_min_gt_max", "clamp", [randint(-9, 9, 6)], min=3, max=-3)
case("f32_scalar_other", "where", [randbool(3, 4), randn(3, 4)], scalar_other=2.5)
case("i64_scalar_other_float", "where", [randbool(3, 4), randint(-5, 5, 3, 4)], scalar_other=2.5)
case("f32_all_nan_rows", "argmax", [lit([[NAN, NAN], [1.0, NAN]], "f32")], dim=1)
case("f32_neg_inf", "argmin", [lit([[-INF, -INF, 0.0], [1.0, -INF, -INF]], "f32")], dim=1)
case("f64_n1_correction2", "var", [randn(1, 3, dt="f64")], dims=[0], correction=2)
case("f64_inf_rows", "logsumexp", [lit([[-INF, -INF], [INF, 1.0], [-INF, 0.0], [NAN, 0.0]], "f64")], dims=[1])
case("f64_inf", "norm", [lit([[INF, 1.0], [-INF, 0.0]], "f64")], dims=[1])
case("f64_ties_grad", "max", [lit([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], "f64")], dim=1, grad=True)
case("f64_stable_ties_grad", "sort", [lit([[1.0, 0.0, 1.0, 0.0], [2.0, 2.0, 1.0, 2.0]], "f64")], stable=True, grad=True)
case("empty", "sort", [randn(0, 3)], dim=0)
case("single", "sort", [randn(1)])
case("1d_1d_empty", "matmul", [randn(0), randn(0).reseed(1)])
case("negative_padding", "embedding", [lit([[0, 5, 1]], "i64"), randn(6, 3, dt="f64")], padding_idx=-1, grad=[1])
case("probs_weight_f64", "cross_entropy", [randn(3, 4, dt="f64"), Spec("lit", [[0.1, 0.2, 0.3, 0.4]] * 3, "f64"),
                                           uniform(0.5, 2, 4, dt="f64")], grad=[0])
case("spatial_weight_f64", "nll_loss", [randn(2, 4, 3, dt="f64"), randint(0, 4, 2, 3), uniform(0.5, 2, 4, dt="f64")],
     grad=[0])
case("bool_entries", "index", [randn(3, 4, dt="f64")], index=[True, 1, False], grad=[0])
case("int_then_bool", "index", [randn(3, 4, dt="f64")], index=[1, True], grad=[0])
# A bool is an advanced index (a new axis indexed by [0] or []): it broadcasts with the others.
for tag, entries in [("true", [True]), ("false", [False]), ("none_then_true", [None, True]),
                     ("true_then_int", [True, 1]), ("true_slice_false", [True, [None, None, None], False]),
                     ("ellipsis_true", ["...", True]), ("true_true", [True, True])]:
    case(f"bool_{tag}", "index", [randn(3, 4, dt="f64")], index=entries, grad=[0])
case("bool_with_separated_tensor", "index", [randn(3, 4, dt="f64"), lit([1, 2], "i64")],
     index=[True, [None, None, None], {"tensor": 1}], grad=[0])
case("bool_true_then_int_f64", "index_put", [randn(3, 4, dt="f64"), randn(4, dt="f64").reseed(1)],
     index=[True, 1], grad=[0, 1])
case("bool_false_f64", "index_put", [randn(3, 4, dt="f64"), randn(4, dt="f64").reseed(1)],
     index=[False], grad=[0, 1])
case("bool_true_slice_false_accumulate_f64", "index_put", [randn(3, 4, dt="f64"), randn(1, dt="f64").reseed(1)],
     index=[True, [None, None, None], False], accumulate=True, grad=[0, 1])
case("0d_k0_f64", "topk", [lit(1.5, "f64")], k=0, grad=True)
case("0d_k1_f64", "topk", [lit(1.5, "f64")], k=1, grad=True)
case("slice_then_bool", "index", [randn(3, 4, dt="f64")], index=[[None, None, None], False])
case("negative_slice_ends", "index", [randn(5, 4, dt="f64")], index=[[-4, -1, 2], [None, -2, None]], grad=[0])
case("bcast_values_f64", "index_put", [randn(4, 3, dt="f64"), randn(3, dt="f64").reseed(1), lit([2, 0], "i64")],
     index=[{"tensor": 2}], grad=[0, 1])
case("fully_masked_row_f64", "scaled_dot_product_attention",
     [randn(1, 2, 3, dt="f64"), randn(1, 2, 3, dt="f64").reseed(1), randn(1, 2, 3, dt="f64").reseed(2),
      Spec("lit", [[True, False], [False, False]], "bool")], grad=[0, 1, 2])
case("neg_inf_float_mask_f64", "scaled_dot_product_attention",
     [randn(1, 2, 3, dt="f64"), randn(1, 2, 3, dt="f64").reseed(1), randn(1, 2, 3, dt="f64").reseed(2),
      lit([[0.0, -INF], [-INF, -INF]], "f64")], grad=True)

# -- layouts: expanded (stride 0) and transposed operands where ops reduce, gather or scan.
case("expanded_f64", "sum", [randn(4, dt="f64").expand(3, 4)], dims=[0], grad=True)
case("expanded_keep_f32", "amax", [randn(3, 1).expand(3, 5)], dims=[1], keepdim=True)
case("dims_neg_and_pos_f64", "sum", [randn(2, 3, 4, dt="f64").permute(2, 0, 1)], dims=[-1, 0], grad=True)
case("size1_dim_f32", "mean", [randn(3, 1, 4)], dims=[1])
case("transposed_grad_f64", "cumsum", [randn(5, 4, dt="f64").t()], dim=0, grad=True)
case("d1_3d_f64", "cumprod", [uniform(0.5, 1.5, 2, 3, 4, dt="f64")], dim=1, grad=True)
case("transposed_index_f64", "gather", [randn(4, 5, dt="f64"), randint(0, 5, 3, 4).t()], dim=1, grad=[0])
case("duplicate_index_f64", "gather", [randn(3, 4, dt="f64"), lit([[0, 0, 0], [1, 3, 1], [2, 2, 2]], "i64")], dim=1,
     grad=[0])
case("transposed_index_f64", "scatter_add", [randn(4, 3, dt="f64"), randint(0, 4, 3, 5).t(),
                                             randn(5, 3, dt="f64").reseed(1)], dim=0, grad=True)
case("expanded_source_f32", "index_select", [randn(4).expand(3, 4), lit([3, 3, 0], "i64")], dim=1)
case("step_index_f32", "take_along_dim", [randn(3, 4), randint(0, 4, 3, 6).step(1, 2)], dim=-1)
case("d1_3d_f64", "sort", [perm(3, 4, 2, dt="f64").permute(0, 2, 1)], dim=1, grad=True)
case("d1_3d_f64", "topk", [randn(2, 5, 3, dt="f64")], k=2, dim=1, grad=True)
case("middle_dim_f64", "softmax", [randn(2, 4, 3, dt="f64")], dim=1, grad=True)
case("middle_dim_f64", "log_softmax", [randn(2, 4, 3, dt="f64")], dim=1, grad=True)
case("f32_large_d0", "log_softmax", [lit([[1e4, -1e4], [1e4, 1e4], [-1e4, 1e4]], "f32")], dim=0)
case("step_weight_f64", "layer_norm", [randn(3, 4, dt="f64"), randn(8, dt="f64").step(0, 2), None],
     normalized_shape=[4], grad=True)
case("both_operands_strided_f32", "add", [randn(4, 1, 3).permute(2, 1, 0), randn(3, 5, 4).step(1, 2)])
case("three_dims_bcast_f64", "mul", [randn(2, 1, 4, dt="f64"), randn(3, 1, dt="f64").reseed(1)], grad=True)
case("0d_weight_f32", "lerp", [randn(3, 4), randn(3, 4).reseed(1), lit(0.25, "f32")])
case("i64_tensor_bounds_f32", "clamp", [uniform(-3, 3, 3, 4), lit([-1, 0, -2, 1], "i64"),
                                        lit([1, 2, 0, 3], "i64")])
case("i64_by_float_scalar", "div", [randint(-9, 9, 6)], scalar=0.5)
case("i64_by_float_scalar_floor", "div", [randint(-9, 9, 6)], scalar=-2.5, rounding_mode="floor")
case("i32_keep", "prod", [randint(-3, 4, 3, 4, dt="i32")], dim=0, keepdim=True)
case("i64_alpha", "index_add", [randint(-5, 5, 4, 3), lit([3, 3], "i64"), randint(-5, 5, 2, 3).reseed(1)], dim=0,
     alpha=-2)
case("spatial_smoothing_f64", "cross_entropy", [randn(2, 4, 3, dt="f64"), lit([[0, 1, -100], [3, 3, 2]], "i64"), None],
     label_smoothing=0.15, grad=[0])
case("spatial_probs_f64", "cross_entropy", [randn(2, 3, 2, dt="f64"), uniform(0, 1, 2, 3, 2, dt="f64"), None], grad=[0])
case("1d_f64", "nll_loss", [randn(4, dt="f64"), lit(3, "i64"), None], grad=[0])
case("0d_indices", "embedding", [lit(2, "i64"), randn(4, 3, dt="f64")], grad=[1])
case("causal_tall_f64", "scaled_dot_product_attention", [randn(5, 4, dt="f64"), randn(3, 4, dt="f64").reseed(1),
                                                         randn(3, 2, dt="f64").reseed(2), None], is_causal=True,
     grad=True)
case("zero_repeats", "repeat", [randn(2, 3)], repeats=[0, 2])
case("empty", "flip", [randn(0, 3)], dims=[0])
case("beyond_size", "tril", [randn(3, 4)], diagonal=5)
case("beyond_size", "triu", [randn(3, 4)], diagonal=-5)
case("more_chunks_than_rows", "chunk", [randn(3, 2)], chunks=5, dim=0)
case("zero_size_piece", "split", [randn(4, 2)], split_size=[0, 3, 1], dim=0)
case("0d", "stack", [randn(), randn().reseed(1)], dim=0)
case("1d", "cat", [randn(3), randn(2).reseed(1)], dim=0)
case("negative_dim", "take_along_dim", [randn(3, 4, dt="f64"), randint(0, 3, 2, 4)], dim=-2, grad=[0])
case("3_operands_ellipsis_f64", "einsum", [randn(2, 1, 3, dt="f64"), randn(4, 3, 5, dt="f64").reseed(1),
                                           randn(5, dt="f64").reseed(2)], equation="...i,...ij,j->...", grad=True)
case("repeated_letter_transposed_f64", "einsum", [randn(3, 3, dt="f64").t(), randn(3, dt="f64").reseed(1)],
     equation="ii,i->i", grad=True)

# -- mixed dtypes beyond add/mul, keepdim without dims, numerically hard inputs.
case("promote_f32_f64_f32", "addcmul", [randn(4), randn(4, dt="f64").reseed(1), randn(4).reseed(2)])
case("promote_f16_f32", "where", [randbool(4), randn(4, dt="f16"), randn(4).reseed(1)])
case("promote_f32_by_f64_bounds", "clamp", [randn(4), lit([-0.5, 0.0, -1.0, 0.2], "f64"), None])
case("promote_f32_by_0d_f64_bound", "clamp", [randn(4), lit(0.1, "f64"), None])
case("promote_i32_f16", "maximum", [randint(-3, 3, 5, dt="i32"), randn(5, dt="f16")])
case("promote_f16_f64", "lt", [randn(5, dt="f16"), randn(5, dt="f64").reseed(1)])
case("promote_bool_i64", "bitwise_or", [randbool(5), randint(0, 8, 5)])
case("promote_bool_i64", "cat", [randbool(2), randint(0, 8, 3)], dim=0)
case("u8_wrapping_scalar", "add", [randint(0, 9, 5, dt="u8")], scalar=300)
case("i64_overflow_wraps", "mul", [lit([2**62, -(2**62), 3], "i64")], scalar=4)
case("bool_float_scalar", "mul", [randbool(5)], scalar=1.5)
case("bool_by_bool", "div", [randbool(5), Spec("lit", [True, True, False, True, False], "bool")])
case("i8", "mm", [randint(-9, 9, 3, 4, dt="i8"), randint(-9, 9, 4, 2, dt="i8").reseed(1)])
case("i64", "einsum", [randint(-5, 5, 2, 3), randint(-5, 5, 3, 4).reseed(1)], equation="ij,jk->ik")
case("f32_nan_bound", "clamp", [randn(4)], min=NAN)
case("f32_keepdim_no_dims", "var", [randn(2, 3)], keepdim=True)
case("f32_keepdim_no_dims", "amax", [randn(2, 3)], keepdim=True)
case("f32_keepdim_no_dims", "norm", [randn(2, 3)], keepdim=True)
case("f32_keepdim_no_dim", "argmax", [randn(2, 3)], keepdim=True)
case("bool_all", "max", [randbool(3, 4)])
case("bool_d1", "sum", [randbool(3, 4)], dims=[1])
case("f32_nan", "topk", [lit([[1.0, NAN, 3.0, -INF, 2.0]], "f32")], k=3)
case("f32_nan_smallest", "topk", [lit([[1.0, NAN, 3.0, -INF, 2.0]], "f32")], k=3, largest=False)
case("f32_nan_stable", "argsort", [lit([[1.0, NAN, 3.0, NAN, 1.0]], "f32")], stable=True)
case("f32_long_k", "dot", [randn(37), randn(37).reseed(1)])
case("f32_transposed", "mv", [randn(5, 3).t(), randn(5)])
# Large offsets with a small spread: a one-pass variance (E[x^2] - E[x]^2) cancels catastrophically.
case("f32_big_offset", "var", [uniform(1000, 1001, 40)], dims=[0])
case("f64_big_offset", "var", [uniform(1e6, 1e6 + 1, 40, dt="f64")], dims=[0])
case("f32_big_offset", "std", [uniform(1000, 1001, 2, 20)], dims=[1])
# float32 inputs at 1e4 are quantised to 1e-3 against a spread of 0.1: PyTorch's float32 answer is
# itself ~1e-2 off the exact one (ricci's is closer), so only a cancellation (an error of ~1) fails.
case("f32_big_offset", "layer_norm", [uniform(1e4, 1e4 + 0.5, 2, 20), None, None], normalized_shape=[20], rtol=2e-2,
     atol=2e-2)
case("f64_big_offset", "layer_norm", [uniform(1e6, 1e6 + 1, 2, 20, dt="f64"), None, None], normalized_shape=[20],
     rtol=1e-8, atol=1e-8, grad=True)
case("f32_big_offset", "mean", [uniform(1e6, 1e6 + 1, 50)], dims=[0])
case("f32_large_equal", "logsumexp", [lit([[1e4, 1e4], [-1e4, -1e4], [1e30, 1e30]], "f32")], dims=[1])
case("f16_large", "softmax", [lit([[60000.0, -60000.0, 0.0], [100.0, 100.0, 99.0]], "f16")], dim=1)
case("f64_causal_scaled", "scaled_dot_product_attention", [randn(2, 4, 8, dt="f64"), randn(2, 4, 8, dt="f64").reseed(1),
                                                           randn(2, 4, 8, dt="f64").reseed(2), None],
     is_causal=True, scale=0.7, grad=True)
case("f32_larger", "scaled_dot_product_attention", [randn(2, 6, 16), randn(2, 7, 16).reseed(1),
                                                    randn(2, 7, 5).reseed(2), None], grad=True, rtol=1e-5, atol=1e-5)

# -- gradients of unary and binary ops (float64, the recorded gradient is tight). Inputs kept away
# from kinks (abs at 0, relu at 0) and domain edges.
for op in ["neg", "abs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square",
           "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "erf", "silu", "softplus", "gelu"]:
    x = uniform(0.2, 2.0, 3, 4, dt="f64") if op in ("log", "log2", "log10", "sqrt", "rsqrt", "reciprocal") else \
        uniform(-1.2, 1.2, 4, 3, dt="f64").t()
    case("grad_f64", op, [x], grad=True)
case("grad_tanh_f64", "gelu", [randn(3, 4, dt="f64")], approximate="tanh", grad=True)
case("grad_f32", "sigmoid", [randn(3, 4)], grad=True)
case("grad_f32", "gelu", [randn(3, 4)], grad=True)
case("grad_f64", "clamp", [randn(3, 4, dt="f64")], min=-0.5, max=0.5, grad=True)
case("grad_tensor_bounds_f64", "clamp", [randn(3, 4, dt="f64"), uniform(-1, -0.1, 3, 1, dt="f64"),
                                         uniform(0.1, 1, 4, dt="f64")], grad=True)
for op in ARITH:
    a = uniform(0.5, 2.0, 3, 4, dt="f64")
    b = uniform(0.5, 2.0, 4, dt="f64").reseed(1) if op in ("pow", "div", "fmod", "remainder") else \
        randn(4, dt="f64").reseed(1)
    case("grad_bcast_f64", op, [a, b], grad=True)
case("grad_scalar_f64", "pow", [uniform(0.5, 2.0, 5, dt="f64")], scalar=2.5, grad=True)
case("grad_scalar_base_f64", "pow", [randn(5, dt="f64")], scalar_base=1.7, grad=True)
case("grad_alpha_f64", "sub", [randn(5, dt="f64"), randn(5, dt="f64").reseed(1)], alpha=-3, grad=True)
case("grad_expanded_f64", "mul", [randn(4, dt="f64").expand(3, 4), randn(3, 4, dt="f64").reseed(1)], grad=True)


# -- conversions and degenerate reductions.
case("i64_float_value", "masked_fill", [lit([1, 2, 3, -4], "i64"), Spec("lit", [True, False, True, True], "bool")],
     value=2.7)
case("i64_float_value", "scatter", [randint(-5, 5, 4), lit([1, 3], "i64")], dim=0, value=-2.7)
case("f32_rounds_to_divisor", "remainder", [lit([-1e-8, 1e-8, -0.0, 5.0], "f32")], scalar=1.0)
case("f32_floor_signed_zero", "div", [lit([-0.0, 0.0, -1e-30, 1e-30], "f32")], scalar=1.0, rounding_mode="floor")
case("all_ignored_f64", "cross_entropy", [randn(2, 3, dt="f64"), lit([-100, -100], "i64"), None])
case("none_ignored_smoothing_f64", "cross_entropy", [randn(3, 4, dt="f64"), lit([1, -100, 2], "i64"), None],
     reduction="none", label_smoothing=0.2, grad=[0])
case("none_ignored_f64", "nll_loss", [randn(3, 4, dt="f64"), lit([1, -100, 2], "i64"), uniform(0.5, 2, 4, dt="f64")],
     reduction="none", grad=[0])
case("empty_mean", "mse_loss", [randn(0, 3), randn(0, 3).reseed(1)])
case("empty_batch", "layer_norm", [randn(0, 4), None, None], normalized_shape=[4])
case("size1_dim_f64", "softmax", [randn(3, 1, dt="f64")], dim=1, grad=True)
case("one_key_f64", "scaled_dot_product_attention", [randn(3, 4, dt="f64"), randn(1, 4, dt="f64").reseed(1),
                                                     randn(1, 2, dt="f64").reseed(2), None], grad=True)
case("negative_accumulate_f64", "index_put", [randn(4, 2, dt="f64"), randn(3, 2, dt="f64").reseed(1),
                                              lit([-1, 3, -1], "i64")], index=[{"tensor": 2}], accumulate=True, grad=[0, 1])

# -- gradients at kinks and domain edges: PyTorch's conventions (abs'(0) = 0, relu'(0) = 0, clamp
# at its bounds, maximum splits ties, the 2-norm of zeros has gradient 0, ...).
EDGE = lit([-1.0, -0.0, 0.0, 0.5, 1.0, 2.0], "f64")
for op in ["abs", "relu", "sqrt", "log", "sign", "round", "rsqrt", "reciprocal", "square", "silu", "gelu",
           "sigmoid", "erf", "expm1", "log1p"]:
    case("grad_edges_f64", op, [EDGE], grad=True)
case("grad_at_bounds_f64", "clamp", [EDGE], min=0.0, max=1.0, grad=True)
case("grad_at_min_only_f64", "clamp", [EDGE], min=0.0, grad=True)
case("grad_at_tensor_bounds_f64", "clamp", [EDGE, lit([0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "f64"),
                                            lit([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], "f64")], grad=True)
case("grad_at_tensor_min_only_f64", "clamp", [EDGE, lit([0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "f64"), None], grad=True)
case("grad_at_tensor_max_only_f64", "clamp", [EDGE, None, lit([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], "f64")], grad=True)
case("grad_tensor_bounds_crossed_f64", "clamp", [lit([0.0, 0.0, 1.0, 2.0, 0.5, 1.0], "f64"),
                                                 lit([0.0, 1.0, 1.0, 2.0, 0.0, 2.0], "f64"),
                                                 lit([0.0, 0.0, 1.0, 1.0, 0.0, 1.0], "f64")], grad=True)
case("grad_at_max_only_f64", "clamp", [EDGE], max=1.0, grad=True)
case("grad_int_bounds_f64", "clamp", [EDGE], min=0, max=1, grad=True)
case("grad_above_threshold_f64", "softplus", [lit([19.0, 20.0, 21.0, -25.0], "f64")], grad=True)
case("grad_ties_f64", "maximum", [lit([1.0, 2.0, 3.0], "f64"), lit([1.0, 1.0, 3.0], "f64")], grad=True)
case("grad_ties_f64", "minimum", [lit([1.0, 2.0, 3.0], "f64"), lit([1.0, 1.0, 3.0], "f64")], grad=True)
case("grad_nan_f64", "maximum", [lit([NAN, 1.0, 2.0, NAN, 3.0], "f64"), lit([1.0, NAN, 2.0, NAN, 1.0], "f64")], grad=True)
case("grad_nan_f64", "minimum", [lit([NAN, 1.0, 2.0, NAN, 3.0], "f64"), lit([1.0, NAN, 2.0, NAN, 1.0], "f64")], grad=True)
case("grad_zero_base_f64", "pow", [lit([0.0, 0.0, 0.0, 1.0, 2.0, -2.0], "f64"), lit([2.0, 0.0, 0.5, 3.0, 0.5, 2.0], "f64")],
     grad=True)
case("grad_zero_base_scalar_f64", "pow", [lit([0.0, 1.0, -2.0], "f64")], scalar=2, grad=True)
case("grad_zero_exponent_scalar_f64", "pow", [lit([0.0, 1.0, -2.0], "f64")], scalar=0.0, grad=True)
case("grad_origin_f64", "atan2", [lit([0.0, 1.0, -1.0], "f64"), lit([0.0, 0.0, -1.0], "f64")], grad=True)
case("grad_zero_vector_f64", "norm", [lit([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]], "f64")], dims=[1], grad=True)
case("grad_zero_vector_p1_f64", "norm", [lit([[0.0, 0.0, 0.0], [3.0, -4.0, 0.0]], "f64")], dims=[1], p=1, grad=True)
case("grad_constant_rows_f64", "std", [lit([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], "f64")], dims=[1], grad=True)
case("grad_neg_inf_row_f64", "logsumexp", [lit([[-INF, -INF], [0.0, -INF]], "f64")], dims=[1], grad=True)
case("grad_inf_f64", "softmax", [lit([[-INF, 0.0, 1.0], [-INF, -INF, 0.0]], "f64")], dim=1, grad=True)
case("grad_nan_unselected_f64", "where", [Spec("lit", [True, False], "bool"), lit([1.0, NAN], "f64"),
                                          lit([NAN, 2.0], "f64")], grad=[1, 2])
case("grad_zero_divisor_f64", "div", [lit([1.0, 0.0, -1.0], "f64"), lit([0.0, 0.0, 2.0], "f64")], grad=True)
case("grad_nan_f64", "amax", [lit([[1.0, NAN, 3.0], [1.0, 2.0, 2.0]], "f64")], dims=[1], grad=True)
case("grad_all_ties_f64", "max", [lit([[1.0, 1.0, 1.0]], "f64")], grad=True)
case("grad_ties_f64", "topk", [lit([[1.0, 3.0, 3.0, 2.0]], "f64")], k=2, grad=True)
