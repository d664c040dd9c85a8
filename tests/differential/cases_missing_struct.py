"""Structural ops added later: order statistics (median, kthvalue), count_nonzero, the scans
logcumsumexp / cummax / cummin, trace, tensordot, baddbmm, kron, cross, diff, pad, diag /
diag_embed, repeat_interleave, searchsorted and bucketize.

Part of the table of make_golden.py; the vocabulary (randn, case, ...) is in dsl.py."""
from dsl import *  # noqa: F401,F403 (the table's vocabulary)

LOW = ["f16", "bf16"]

# -- median / kthvalue: perm() has no ties along the last dim, so indices are unambiguous there;
# the tie and NaN cases below pin PyTorch's own choice of index.
for dt in FLOATS:
    case(f"{dt}_all", "median", [randn(3, 5, dt=dt)], grad=True)
    case(f"{dt}_dim", "median", [perm(3, 6, dt=dt)], dim=-1, grad=True)
    case(f"{dt}_dim0_keep", "median", [perm(5, 4, dt=dt).t()], dim=0, keepdim=True, grad=True)
    case(f"{dt}", "kthvalue", [perm(4, 7, dt=dt)], k=3, grad=True)
    case(f"{dt}_dim0_keep", "kthvalue", [perm(6, 3, dt=dt).t()], k=2, dim=0, keepdim=True, grad=True)
for dt in LOW:
    case(dt, "median", [perm(3, 5, dt=dt)], dim=1)
    case(f"{dt}_all", "median", [randn(4, 4, dt=dt)])
    case(dt, "kthvalue", [perm(3, 5, dt=dt)], k=4)
case("f32_step", "median", [perm(3, 10).step(1, 2)], dim=1)
case("f32_expanded", "median", [perm(1, 5).expand(3, 5)], dim=1)
case("i64", "median", [randint(-9, 9, 4, 5)], dim=0)
case("i32_all", "median", [randint(-9, 9, 4, 5, dt="i32")])
case("u8", "kthvalue", [randint(0, 255, 3, 6, dt="u8")], k=2)
case("ties", "median", [lit([[2, 1, 2, 2, 1], [3, 3, 3, 3, 3], [0, 1, 0, 1, 0]], "f32")], dim=1, grad=True)
case("ties", "kthvalue", [lit([[2, 1, 2, 2, 1], [3, 3, 3, 3, 3], [0, 1, 0, 1, 0]], "f64")], k=3, grad=True)
case("ties_many", "kthvalue", [randint(0, 3, 4, 17, dt="i64")], k=9)
# Long rows full of ties: the index is the one PyTorch's quickselect (kthvalue) or its
# (value, position) order (median) picks, at every k.
for k in [1, 7, 25, 50]:
    case(f"ties_long_k{k}", "kthvalue", [randint(0, 5, 3, 50, dt="f32")], k=k, dim=1, grad=True)
case("ties_long", "median", [randint(0, 5, 3, 51, dt="f64")], dim=1, grad=True)
case("ties_long_d0", "kthvalue", [randint(0, 4, 33, 3, dt="bf16")], k=16, dim=0)
case("nan", "median", [lit([[1.0, NAN, 3.0, NAN], [5.0, 4.0, 6.0, 7.0]], "f32")], dim=1)
case("nan_all", "median", [lit([1.0, NAN, 3.0, NAN], "f64")], grad=True)
case("nan", "kthvalue", [lit([[NAN, 1.0, 0.0], [2.0, NAN, 1.0]], "f32")], k=2)
case("inf", "median", [lit([[-INF, INF, 0.0], [INF, INF, 1.0]], "f32")], dim=1)
case("0d", "median", [randn()], dim=0)
case("0d", "kthvalue", [randn(dt="f64")], k=1, grad=True)
case("empty_rows", "median", [randn(0, 4)], dim=1)
case("empty_all", "median", [randn(0, 4)])

# -- count_nonzero: NaN counts.
CNZ = lit([[0.0, NAN, 1.0], [0.0, 0.0, -2.0]], "f32")
case("all", "count_nonzero", [CNZ])
case("d0", "count_nonzero", [CNZ], dims=0)
case("dims", "count_nonzero", [CNZ], dims=[-1, 0])
case("i64_t", "count_nonzero", [randint(-2, 2, 4, 5).t()], dims=1)
case("bool", "count_nonzero", [randbool(3, 4)], dims=[0])

# -- scans.
for dt in FLOATS:
    case(f"{dt}", "logcumsumexp", [randn(3, 5, dt=dt)], dim=1, grad=True)
    case(f"{dt}_transposed", "logcumsumexp", [randn(4, 3, dt=dt).t()], dim=0, grad=True)
    for op in ["cummax", "cummin"]:
        case(f"{dt}", op, [randn(3, 6, dt=dt)], dim=1, grad=True)
        case(f"{dt}_d0_step", op, [randn(5, 6, dt=dt).step(1, 2)], dim=0, grad=True)
for dt in LOW:
    case(dt, "logcumsumexp", [randn(2, 6, dt=dt)], dim=-1)
    case(dt, "cummax", [randn(2, 6, dt=dt)], dim=-1)
case("large", "logcumsumexp", [lit([[1000.0, 1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -999.0, -2000.0]], "f64")],
     dim=1, grad=True)
case("inf_nan", "logcumsumexp", [lit([-INF, -INF, 0.0, INF, INF, 1.0, NAN, 2.0], "f32")], dim=0)
case("neg_inf_rows", "logcumsumexp", [lit([[-INF, 3.0, -INF], [-INF, -INF, -INF]], "f64")], dim=1)
case("0d", "logcumsumexp", [randn(dt="f64")], dim=0, grad=True)
case("ties_nan", "cummax", [lit([1.0, 3.0, 3.0, NAN, 2.0, NAN, 5.0], "f32")], dim=0)
case("ties_nan", "cummin", [lit([3.0, 1.0, 1.0, NAN, 0.0, NAN], "f64")], dim=0)
case("ties_grad", "cummax", [lit([[1.0, 3.0, 3.0, 2.0, 4.0], [0.0, 0.0, 0.0, 0.0, 0.0]], "f64")], dim=1, grad=True)
case("i64", "cummax", [randint(-5, 5, 3, 7)], dim=1)
case("i8", "cummin", [randint(-5, 5, 3, 7, dt="i8")], dim=0)
case("bool", "cummax", [randbool(2, 6)], dim=1)
case("0d", "cummin", [randn()], dim=-1)

# -- products and friends.
for dt in FLOATS:
    m = lambda *s, seed=0: randn(*s, dt=dt).reseed(seed)  # noqa: E731
    case(dt, "trace", [m(4, 4)], grad=True)
    case(f"{dt}_rect_t", "trace", [m(5, 3).t()], grad=True)
    case(f"{dt}_int_dims", "tensordot", [m(2, 3, 4), m(3, 4, 5, seed=1)], dims=2, grad=True)
    case(f"{dt}_lists", "tensordot", [m(2, 3, 4), m(4, 2, 3, seed=1)], dims_a=[0, 2], dims_b=[1, 0], grad=True)
    case(f"{dt}_size1", "tensordot", [m(2, 1, 4), m(3, 4, seed=1)], dims_a=[1, 2], dims_b=[0, 1], grad=True)
    case(dt, "baddbmm", [m(2, 3, 4, seed=2), m(2, 3, 5), m(2, 5, 4, seed=1)], grad=True)
    case(f"{dt}_bcast_scaled", "baddbmm", [m(4, seed=2), m(2, 3, 5), m(2, 4, 5, seed=1).t(1, 2)], beta=0.5,
         alpha=-2.0, grad=True)
    case(dt, "kron", [m(2, 3), m(3, 2, seed=1)], grad=True)
    case(f"{dt}_ranks", "kron", [m(2), m(2, 3, seed=1)], grad=True)  # (PyTorch 2.x kron fails on a transposed input)
    case(dt, "cross", [m(4, 3), m(4, 3, seed=1)], dim=1, grad=True)
    case(f"{dt}_default_dim_bcast", "cross", [m(3, 1, 2), m(3, 4, 2, seed=1)], grad=True)
case("f32_beta0_nan", "baddbmm", [lit([NAN], "f32"), randn(2, 2, 3), randn(2, 3, 2).reseed(1)], beta=0)
case("i64", "baddbmm", [randint(-3, 3, 1, 3), randint(-3, 3, 2, 2, 4), randint(-3, 3, 2, 4, 3).reseed(1)], beta=2,
     alpha=3)
case("bf16", "baddbmm", [randn(2, 2, dt="bf16"), randn(1, 2, 3, dt="bf16"), randn(1, 3, 2, dt="bf16").reseed(1)],
     atol=0.02)  # bf16 products: PyTorch's own rounding path differs in the last bit
case("i32", "trace", [randint(-9, 9, 3, 3, dt="i32")])
case("f16", "trace", [randn(3, 3, dt="f16")])
case("i32", "tensordot", [randint(-3, 3, 2, 3, dt="i32"), randint(-3, 3, 3, 2, dt="i32").reseed(1)], dims=1)
case("outer", "tensordot", [randn(3), randn(2).reseed(1)], dims=0)
case("promote", "kron", [randint(-3, 3, 2, 2), randn(2).reseed(1)])
case("bool", "kron", [randbool(2, 2), randbool(2).reseed(1)])
case("i64", "cross", [randint(-5, 5, 2, 3), randint(-5, 5, 2, 3).reseed(1)], dim=-1)
case("linalg_dim_first", "cross", [randn(3, 4), randn(3, 4).reseed(1)], dim=0)

# -- diff.
for dt in FLOATS:
    case(f"{dt}", "diff", [randn(3, 6, dt=dt), None, None], grad=True)
    case(f"{dt}_n2_d0", "diff", [randn(5, 3, dt=dt).t(), None, None], n=2, dim=0, grad=True)
    case(f"{dt}_prepend_append", "diff", [randn(3, 4, dt=dt), randn(3, 1, dt=dt).reseed(1), randn(3, 2, dt=dt).reseed(2)],
         n=2, dim=1, grad=True)
case("n_big", "diff", [randn(4), None, None], n=6)
case("n0", "diff", [randn(4), randn(1).reseed(1), None], n=0)
case("bool", "diff", [randbool(2, 7), None, None])
case("i8", "diff", [randint(-100, 100, 9, dt="i8"), None, None])
case("promote", "diff", [randint(-9, 9, 4), randn(1).reseed(1), None])
case("inf_nan", "diff", [lit([1.0, INF, INF, NAN, 2.0], "f32"), None, None])

# -- pad.
for dt in FLOATS:
    case(f"{dt}_constant", "pad", [randn(2, 3, 4, dt=dt)], pad=[1, 2, 0, 1], value=0.5, grad=True)
    case(f"{dt}_constant_negative", "pad", [randn(3, 5, dt=dt)], pad=[-1, 2, 1, -2], grad=True)
    for mode in ["reflect", "replicate", "circular"]:
        case(f"{dt}_{mode}_1d", "pad", [randn(2, 3, 5, dt=dt)], pad=[2, 3], mode=mode, grad=True)
        case(f"{dt}_{mode}_2d", "pad", [randn(2, 3, 4, 5, dt=dt).t(2, 3)], pad=[1, 2, 2, 1], mode=mode, grad=True)
    case(f"{dt}_replicate_3d", "pad", [randn(1, 2, 3, 2, 2, dt=dt)], pad=[1, 0, 2, 1, 0, 3], mode="replicate", grad=True)
    case(f"{dt}_reflect_3d_nobatch", "pad", [randn(2, 3, 4, 3, dt=dt)], pad=[1, 1, 2, 0, 0, 2], mode="reflect", grad=True)
case("f32_reflect_negative", "pad", [randn(1, 6)], pad=[-1, 3], mode="reflect")
case("f32_replicate_negative", "pad", [randn(1, 6)], pad=[-2, 4], mode="replicate")
case("f32_circular_negative", "pad", [randn(1, 6)], pad=[-1, 2], mode="circular")
case("f64_circular_mixed_2d", "pad", [randn(2, 5, 6, dt="f64")], pad=[3, -2, -1, 2], mode="circular", grad=True)
case("i64_constant", "pad", [randint(-9, 9, 2, 3)], pad=[1, 1], value=7)
case("i32_reflect", "pad", [randint(-9, 9, 1, 2, 4, dt="i32")], pad=[1, 2], mode="reflect")
case("bool_constant", "pad", [randbool(2, 3)], pad=[0, 2, 1, 0])
case("f16_constant", "pad", [randn(2, 3, dt="f16")], pad=[1, 1], value="-inf")
case("bf16_replicate", "pad", [randn(1, 2, 3, dt="bf16")], pad=[2, 2], mode="replicate")
case("f32_step", "pad", [randn(3, 8).step(1, 2)], pad=[1, 1, 1, 1], value=-1.0)
case("f32_expanded", "pad", [randn(1, 4).expand(3, 4)], pad=[2, 1], mode="reflect")

# -- diag / diag_embed.
for dt in FLOATS:
    case(f"{dt}_vector", "diag", [randn(4, dt=dt)], diagonal=1, grad=True)
    case(f"{dt}_matrix", "diag", [randn(4, 5, dt=dt).t()], diagonal=-1, grad=True)
    case(dt, "diag_embed", [randn(2, 3, dt=dt)], grad=True)
    case(f"{dt}_dims", "diag_embed", [randn(2, 3, dt=dt)], offset=-1, dim1=2, dim2=0, grad=True)
case("i64", "diag", [randint(-9, 9, 3)], diagonal=-2)
case("bool", "diag_embed", [randbool(2, 2)], offset=1)
case("offset_outside", "diag", [randn(2, 3)], diagonal=4)

# -- repeat_interleave: repeats as an int attr, or a tensor input (int64/int32); the index form
# when the only input is the repeats.
for dt in FLOATS:
    case(f"{dt}_int_flat", "repeat_interleave", [randn(2, 3, dt=dt)], repeats=2, grad=True)
    case(f"{dt}_int_dim", "repeat_interleave", [randn(3, 2, dt=dt).t()], repeats=3, dim=1, grad=True)
    case(f"{dt}_tensor", "repeat_interleave", [randn(3, 4, dt=dt), lit([2, 0, 1], "i64")], dim=0, grad=[0])
    case(f"{dt}_tensor_flat", "repeat_interleave", [randn(2, 2, dt=dt), lit([1, 3, 0, 2], "i32")], grad=[0])
case("one_repeat_for_all", "repeat_interleave", [randn(2, 3), lit([2], "i64")], dim=-1)
case("output_size", "repeat_interleave", [randn(2, 3), lit([1, 2], "i64")], dim=0, output_size=3)
case("bool", "repeat_interleave", [randbool(2, 2)], repeats=2, dim=0)
case("index_form", "repeat_interleave", [lit([2, 0, 3, 1], "i64")])
case("index_form_i32", "repeat_interleave", [lit([1, 2], "i32")])

# -- searchsorted / bucketize: inputs (sequence, values[, sorter]); a Scalar value as attrs["scalar"].
SEQ = lit([1.0, 2.0, 2.0, 3.0, NAN], "f32")
VALS = lit([0.0, 2.0, 2.5, NAN, INF, -INF, 3.0], "f32")
case("left", "searchsorted", [SEQ, VALS])
case("right", "searchsorted", [SEQ, VALS], right=True)
case("side_right_i32", "searchsorted", [SEQ, VALS], side="right", out_int32=True)
case("scalar", "searchsorted", [SEQ], scalar=2.5)
case("scalar_int_seq", "searchsorted", [lit([1, 2, 3], "i64")], scalar=2.5)
case("promote", "searchsorted", [lit([1, 2, 3], "i64"), lit([[2.5, 0.5], [3.0, 9.0]], "f64")])
case("rows", "searchsorted", [lit([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]], "f64"), lit([[3.0, 6.0], [0.0, 4.0]], "f64")],
     right=True)
case("sorter", "searchsorted", [lit([[5.0, 1.0, 3.0], [0.0, 9.0, 4.0]], "f32"), lit([[3.0, 0.0], [5.0, 10.0]], "f32"),
                                lit([[1, 2, 0], [0, 2, 1]], "i64")])
case("f16", "searchsorted", [lit([1.0, 2.0, 4.0], "f16"), lit([1.5, 4.0], "f16")])
case("u8_strided", "searchsorted", [lit([1, 3, 3, 7, 9, 200], "u8").step(0, 2), lit([3, 8, 255], "u8")])
case("nan_boundaries", "searchsorted", [lit([NAN, NAN, 1.0], "f64"), lit([0.0, 1.0, NAN], "f64")])
case("empty_seq", "searchsorted", [lit([], "f32"), lit([1.0], "f32")])
case("left", "bucketize", [lit([[0.0, 2.0, 2.5], [NAN, INF, 1.0]], "f32"), lit([1.0, 2.0, 3.0], "f32")])
case("right_i32", "bucketize", [lit([0.0, 2.0, 2.5, 3.0], "f64"), lit([1.0, 2.0, 3.0], "f64")], right=True, out_int32=True)
case("int", "bucketize", [randint(-9, 9, 3, 4), lit([-5, 0, 5], "i64")])
case("scalar", "bucketize", [lit([1.0, 2.0, 3.0], "f32")], scalar=2)
