"""Matrix products, einsum, joining/splitting, gathering/scattering, reordering, sorting and
NumPy-style indexing cases.

Part of the table of make_golden.py; the vocabulary (randn, case, ...) is in dsl.py."""
from dsl import *  # noqa: F401,F403 (the table's vocabulary)

# -- matrix products: every matmul shape rule, transposed operands, broadcast batches.
for dt in FLOATS:
    m = lambda *s, seed=0: randn(*s, dt=dt).reseed(seed)  # noqa: E731
    case(f"{dt}_1d_1d", "matmul", [m(5), m(5, seed=1)], grad=True)
    case(f"{dt}_1d_2d", "matmul", [m(4), m(4, 3, seed=1)], grad=True)
    case(f"{dt}_2d_1d", "matmul", [m(3, 4), m(4, seed=1)], grad=True)
    case(f"{dt}_1d_3d", "matmul", [m(4), m(2, 4, 3, seed=1)], grad=True)
    case(f"{dt}_3d_1d", "matmul", [m(2, 3, 4), m(4, seed=1)], grad=True)
    case(f"{dt}_2d", "matmul", [m(3, 4), m(4, 5, seed=1)], grad=True)
    case(f"{dt}_2d_transposed", "matmul", [m(4, 3).t(), m(5, 4, seed=1).t()], grad=True)
    case(f"{dt}_batched", "matmul", [m(2, 3, 4), m(2, 4, 5, seed=1)], grad=True)
    case(f"{dt}_batched_bcast", "matmul", [m(2, 1, 3, 4), m(3, 4, 2, seed=1)], grad=True)
    case(f"{dt}_3d_2d", "matmul", [m(2, 3, 4), m(4, 2, seed=1)], grad=True)
    case(f"{dt}_expanded_batch", "matmul", [m(3, 4).expand(2, 3, 4), m(2, 3, 4, seed=1).t(1, 2)])
    case(f"{dt}_step", "matmul", [m(3, 8).step(1, 2), m(4, 6, seed=1).step(1, 3)])
    case(f"{dt}_empty_k", "matmul", [m(3, 0), m(0, 2, seed=1)])
    case(dt, "mm", [m(3, 4), m(4, 2, seed=1)], grad=True)
    case(f"{dt}_transposed", "mm", [m(4, 3).t(), m(4, 2, seed=1)])
    case(dt, "bmm", [m(2, 3, 4), m(2, 4, 2, seed=1)], grad=True)
    case(f"{dt}_transposed", "bmm", [m(2, 4, 3).t(1, 2), m(2, 2, 4, seed=1).t(1, 2)])
    case(dt, "addmm", [m(3, 2, seed=2), m(3, 4), m(4, 2, seed=1)], grad=True)
    case(f"{dt}_bcast_bias", "addmm", [m(2, seed=2), m(3, 4), m(4, 2, seed=1)], beta=0.5, alpha=2.0, grad=True)
    case(f"{dt}_beta0_nan", "addmm", [lit([[NAN, NAN]], dt), m(3, 4), m(4, 2, seed=1)], beta=0)
    case(dt, "outer", [m(3), m(4, seed=1)], grad=True)
    case(dt, "dot", [m(6), m(6, seed=1)], grad=True)
    case(f"{dt}_step", "dot", [m(12).step(0, 2), m(6, seed=1)])
    case(dt, "mv", [m(3, 4), m(4, seed=1)], grad=True)
case("i64", "mm", [randint(-5, 5, 3, 4), randint(-5, 5, 4, 2).reseed(1)])
case("i32_batched", "matmul", [randint(-5, 5, 2, 3, 4, dt="i32"), randint(-5, 5, 4, 2, dt="i32").reseed(1)])
case("promote_i64_f32", "outer", [randint(-3, 3, 3), randn(2)])
# einsum: a dozen equations, ellipsis, trace, diagonal, three operands, implicit output.
EINSUM = [
    ("matmul", "ij,jk->ik", [(3, 4), (4, 5)]),
    ("batched", "bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("attention_scores", "btd,bsd->bts", [(2, 3, 4), (2, 5, 4)]),
    ("outer", "i,j->ij", [(3,), (4,)]),
    ("trace", "ii->", [(4, 4)]),
    ("diagonal", "ii->i", [(4, 4)]),
    ("transpose", "ij->ji", [(3, 4)]),
    ("sum_all", "ijk->", [(2, 3, 4)]),
    ("sum_dim", "ijk->ik", [(2, 3, 4)]),
    ("ellipsis_matmul", "...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("ellipsis_bcast", "...ij,...jk", [(2, 1, 3, 4), (3, 4, 2)]),
    ("three_operands", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bilinear", "bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("implicit", "ij,jk", [(3, 4), (4, 2)]),
    ("hadamard_sum", "ij,ij->i", [(3, 4), (3, 4)]),
    ("batch_diag", "bii->bi", [(2, 3, 3)]),
    ("size1_bcast", "ij,kj->ikj", [(3, 1), (2, 4)]),
]
for tag, eq, shapes in EINSUM:
    for dt in FLOATS:
        if dt == "f64" or tag in ("matmul", "trace", "ellipsis_bcast", "three_operands"):
            case(f"{tag}_{dt}", "einsum", [randn(*s, dt=dt).reseed(i) for i, s in enumerate(shapes)], equation=eq,
                 grad=(dt == "f64"))
case("transposed_operand_f32", "einsum", [randn(4, 3).t(), randn(4, 5).reseed(1)], equation="ij,jk->ik")

# -- joining and splitting.
for dt in FLOATS + ["i64", "bool"]:
    mk = (lambda *s, seed=0: randn(*s, dt=dt).reseed(seed)) if dt in FLOATS else \
        (lambda *s, seed=0: randbool(*s).reseed(seed)) if dt == "bool" else \
        (lambda *s, seed=0: randint(-9, 9, *s, dt=dt).reseed(seed))
    g = dt in FLOATS
    case(f"{dt}_d0", "cat", [mk(2, 3), mk(1, 3, seed=1), mk(3, 3, seed=2)], dim=0, grad=g)
    case(f"{dt}_d1_mixed_layout", "cat", [mk(2, 3), mk(4, 2, seed=1).t(), mk(2, 6, seed=2).step(1, 3)], dim=1, grad=g)
    if dt != "f64":
        case(f"{dt}_with_empty", "cat", [mk(2, 3), mk(0, 3, seed=1)], dim=0)
    case(f"{dt}_d0", "stack", [mk(2, 3), mk(2, 3, seed=1)], dim=0, grad=g)
    case(f"{dt}_dlast", "stack", [mk(2, 3), mk(3, 2, seed=1).t()], dim=2, grad=g)
    case(f"{dt}_size", "split", [mk(7, 3)], split_size=3, dim=0, grad=g)
    case(f"{dt}_sizes", "split", [mk(3, 7)], split_size=[2, 4, 1], dim=1, grad=g)
    case(f"{dt}", "chunk", [mk(3, 7)], chunks=3, dim=-1, grad=g)
case("promote_f32_f64", "cat", [randn(2, 3), randn(1, 3, dt="f64")], dim=0)
case("promote_i64_f32", "cat", [randint(-3, 3, 2, 3), randn(1, 3)], dim=0)
case("legacy_1d_empty", "cat", [randn(0), randn(2, 3)], dim=0)
case("uneven", "chunk", [randn(5, 2)], chunks=3, dim=0)

# -- gathering and scattering.
for dt in FLOATS:
    x = randn(4, 5, dt=dt)
    case(f"{dt}_d0", "index_select", [x, lit([3, 0, 3, 1], "i64")], dim=0, grad=[0])
    case(f"{dt}_d1_i32", "index_select", [x, lit([4, 0], "i32")], dim=1, grad=[0])
    case(f"{dt}_transposed", "index_select", [randn(5, 4, dt=dt).t(), lit([2, 2], "i64")], dim=1)
    case(f"{dt}_0d_index", "index_select", [x, lit(2, "i64")], dim=0)
    case(f"{dt}_d1", "gather", [x, randint(0, 5, 4, 3)], dim=1, grad=[0])
    case(f"{dt}_d0", "gather", [x, randint(0, 4, 2, 5)], dim=0, grad=[0])
    case(f"{dt}_transposed", "gather", [randn(5, 4, dt=dt).t(), randint(0, 4, 4, 2)], dim=1)
    case(f"{dt}_d0", "take_along_dim", [x, randint(0, 4, 2, 5)], dim=0, grad=[0])
    case(f"{dt}_bcast", "take_along_dim", [x, randint(0, 5, 1, 2)], dim=1)
    case(f"{dt}_flat", "take_along_dim", [x, lit([0, 19, 7], "i64")])
    # scatter: indices distinct per column, so no write race decides the result.
    case(f"{dt}_d0", "scatter", [randn(4, 5, dt=dt), Spec("lit", [[0, 1, 2, 3, 0], [2, 0, 3, 1, 1]], "i64"),
                                  randn(2, 5, dt=dt).reseed(1)], dim=0, grad=[0, 2])
    case(f"{dt}_d1", "scatter", [randn(3, 4, dt=dt), Spec("lit", [[3, 0], [1, 2], [0, 3]], "i64"),
                                  randn(3, 2, dt=dt).reseed(1)], dim=1)
    case(f"{dt}_value", "scatter", [randn(3, 4, dt=dt), Spec("lit", [[3], [1], [0]], "i64")], dim=1, value=-7.5)
    case(f"{dt}_d0", "scatter_add", [randn(3, 4, dt=dt), randint(0, 3, 5, 4), randn(5, 4, dt=dt).reseed(1)],
         dim=0, grad=True)
    case(f"{dt}_d1_bigger_src", "scatter_add", [randn(3, 4, dt=dt), randint(0, 4, 3, 6),
                                                randn(3, 7, dt=dt).reseed(1)], dim=1)
    case(dt, "index_add", [randn(4, 3, dt=dt), lit([0, 2, 0], "i64"), randn(3, 3, dt=dt).reseed(1)], dim=0,
         alpha=2.0, grad=True)
case("i64", "scatter_add", [randint(-5, 5, 3, 4), randint(0, 3, 4, 4), randint(-5, 5, 4, 4).reseed(1)], dim=0)
case("i64", "gather", [randint(-5, 5, 3, 4), randint(0, 4, 3, 4).reseed(1)], dim=1)
case("bool", "index_select", [randbool(3, 4), lit([1, 1, 0], "i64")], dim=1)
for dt in FLOATS:
    case(dt, "masked_fill", [randn(3, 4, dt=dt), randbool(3, 4)], value=-1e9, grad=[0])
    case(f"{dt}_bcast_mask", "masked_fill", [randn(3, 4, dt=dt), randbool(4)], value=2, grad=[0])
    case(f"{dt}_nan_value", "masked_fill", [randn(4, 3, dt=dt).t(), randbool(3, 1)], value=NAN)
case("i64", "masked_fill", [randint(-5, 5, 3, 4), randbool(3, 4)], value=42)
case("bool", "masked_fill", [randbool(3, 4), randbool(3, 4).reseed(1)], value=True)
case("num_classes", "one_hot", [randint(0, 4, 5)], num_classes=6)
case("inferred", "one_hot", [randint(0, 4, 2, 3)])
case("empty", "one_hot", [randint(0, 4, 0)], num_classes=3)

# -- triangles, repetition, reordering.
for dt in FLOATS + ["i64", "bool"]:
    x = randn(4, 5, dt=dt) if dt in FLOATS else (randbool(4, 5) if dt == "bool" else randint(-9, 9, 4, 5))
    g = dt in FLOATS
    variants = dt != "f64"  # float64 only for the gradients: these ops move data, they do no arithmetic
    for op in ["tril", "triu"]:
        case(dt, op, [x], grad=g)
        if variants:
            case(f"{dt}_diag1", op, [x], diagonal=1)
            case(f"{dt}_diag_neg2", op, [x], diagonal=-2)
            case(f"{dt}_batched_transposed", op, [randn(2, 5, 3, dt="f32").t(1, 2)] if g else [x], diagonal=0)
    case(dt, "repeat", [x], repeats=[2, 1], grad=g)
    case(dt, "tile", [x], reps=[2], grad=g)
    case(dt, "flip", [x], dims=[0], grad=g)
    case(dt, "roll", [x], shifts=[2], dims=[1], grad=g)
    if variants:
        case(f"{dt}_new_dims", "repeat", [x], repeats=[2, 1, 3])
        case(f"{dt}_more", "tile", [x], reps=[2, 1, 2])
        case(f"{dt}_both", "flip", [x], dims=[0, -1])
        case(f"{dt}_two_dims", "roll", [x], shifts=[-1, 7], dims=[0, 1])
        case(f"{dt}_flat", "roll", [x], shifts=[3])
case("transposed_f32", "flip", [randn(5, 4).t()], dims=[1])
case("step_f32", "roll", [randn(3, 8).step(1, 2)], shifts=[1], dims=[1])
case("expanded_f32", "repeat", [randn(3).expand(2, 3)], repeats=[1, 2])
case("0d", "repeat", [randn()], repeats=[3])

# -- sorting. Distinct values (perm) where indices are compared without stable=True.
for dt in FLOATS:
    case(dt, "sort", [perm(3, 6, dt=dt)], grad=True)
    case(f"{dt}_desc_d0", "sort", [perm(6, 3, dt=dt).t()], dim=0, descending=True, grad=True)
    case(f"{dt}_stable_ties", "sort", [randint(0, 3, 2, 8, dt=dt)], stable=True)
    case(f"{dt}_stable_ties_desc", "sort", [randint(0, 3, 2, 8, dt=dt)], stable=True, descending=True)
    case(f"{dt}_nan", "sort", [lit([3.0, NAN, -INF, 1.0, INF, -1.0], dt)])
    case(f"{dt}_nan_desc", "sort", [lit([3.0, NAN, -INF, 1.0, INF, -1.0], dt)], descending=True)
    case(dt, "argsort", [perm(3, 6, dt=dt)])
    case(f"{dt}_stable_desc", "argsort", [randint(0, 3, 3, 6, dt=dt)], descending=True, stable=True)
    case(dt, "topk", [perm(3, 8, dt=dt)], k=3, grad=True)
    case(f"{dt}_smallest", "topk", [randn(8, 3, dt=dt).t()], k=2, dim=1, largest=False, grad=True)
case("i64", "sort", [randint(-50, 50, 3, 6)], stable=True)
case("i32_desc", "argsort", [randint(-50, 50, 3, 6, dt="i32")], descending=True, stable=True)
case("i64", "topk", [perm(2, 7, dt="i64")], k=4)
case("bool", "sort", [randbool(2, 6)], stable=True)
case("k0", "topk", [perm(2, 5)], k=0)

# -- NumPy-style indexing: basic entries mixed with integer tensors and bool masks.
IDX = [
    ("int_tensor", (4, 5), [{"tensor": 1}], [lit([3, 0, 3], "i64")]),
    ("int_tensor_dim1", (4, 5), [[None, None, None], {"tensor": 1}], [lit([[4, 0], [1, 1]], "i64")]),
    ("two_tensors", (4, 5), [{"tensor": 1}, {"tensor": 2}], [lit([0, 3, 2], "i64"), lit([4, 4, 0], "i64")]),
    ("bcast_tensors", (4, 5), [{"tensor": 1}, {"tensor": 2}], [lit([[0], [3]], "i64"), lit([1, 2, 4], "i64")]),
    ("negative", (4, 5), [{"tensor": 1}], [lit([-1, -4], "i64")]),
    ("i32", (4, 5), [{"tensor": 1}], [lit([1, 2], "i32")]),
    ("bool_mask_full", (3, 4), [{"tensor": 1}], [randbool(3, 4)]),
    ("bool_mask_rows", (4, 5), [{"tensor": 1}], [Spec("lit", [True, False, True, True], "bool")]),
    ("bool_mask_dim1", (3, 4), [[None, None, None], {"tensor": 1}], [Spec("lit", [False, True, True, False], "bool")]),
    ("separated_tensors", (3, 4, 5), [{"tensor": 1}, [None, None, None], {"tensor": 2}],
     [lit([0, 2], "i64"), lit([1, 3], "i64")]),
    ("adjacent_after_slice", (3, 4, 5), [[None, None, None], {"tensor": 1}, {"tensor": 2}],
     [lit([0, 3], "i64"), lit([1, 4], "i64")]),
    ("ellipsis_tensor", (3, 4, 5), ["...", {"tensor": 1}], [lit([4, 0, 0], "i64")]),
    ("int_slice_none", (3, 4, 5), [1, [1, None, 2], None], []),
    ("tensor_and_int", (3, 4, 5), [{"tensor": 1}, 2], [lit([2, 0], "i64")]),
    ("empty_tensor", (4, 5), [{"tensor": 1}], [Spec("lit", [], "i64")]),
]
for n, (tag, shape, entries, idx) in enumerate(IDX):
    case(f"{tag}_f64", "index", [randn(*shape, dt="f64")] + idx, index=entries, grad=[0])
    if n < 4:
        case(f"{tag}_f32", "index", [randn(*shape)] + idx, index=entries, grad=[0])
case("transposed_source", "index", [randn(5, 4).t(), lit([3, 1], "i64")], index=[{"tensor": 1}])
case("bool_mask_i64", "index", [randint(-5, 5, 3, 4), randbool(3, 4)], index=[{"tensor": 1}])
case("f64", "index_put", [randn(4, 3, dt="f64"), randn(2, 3, dt="f64").reseed(1), lit([3, 0], "i64")],
     index=[{"tensor": 2}], grad=[0, 1])
case("accumulate_f64", "index_put", [randn(4, 3, dt="f64"), randn(3, 3, dt="f64").reseed(1), lit([1, 1, 2], "i64")],
     index=[{"tensor": 2}], accumulate=True, grad=[0, 1])
case("mask_f32", "index_put", [randn(3, 4), lit(9.0, "f32"), randbool(3, 4)], index=[{"tensor": 2}])
