"""Reduction and scan cases.

Part of the table of make_golden.py; the vocabulary (randn, case, ...) is in dsl.py."""
from dsl import *  # noqa: F401,F403 (the table's vocabulary)

# -- reductions over x (3, 4, 5): one dim, negative dim, several dims, all, keepdim, transposed
# (float32; float64 on a few of them).
X3 = [(dt, randn(3, 4, 5, dt=dt)) for dt in FLOATS]
DIMS = {"all": {}, "d1": {"dims": [1]}, "dneg": {"dims": [-1]}, "d02": {"dims": [0, 2]},
        "d1_keep": {"dims": [1], "keepdim": True}, "d02_keep": {"dims": [0, 2], "keepdim": True}}
for op in ["sum", "mean", "amax", "amin", "logsumexp", "var", "std", "norm"]:
    for dt, x in X3:
        for tag, kw in DIMS.items():
            if dt == "f64" and tag not in ("all", "d02_keep"):
                continue  # float64 repeats only a couple of float32's dim patterns
            if op == "logsumexp" and not kw:
                kw = {"dims": [0, 1, 2]}
            case(f"{dt}_{tag}", op, [x], grad=(tag in ("d02", "all", "d02_keep")), **kw)
    case("f32_transposed", op, [randn(5, 4, 3).permute(2, 1, 0)], dims=[1])
    case("f32_step", op, [randn(3, 8).step(1, 2)], dims=[0])
    case("f32_nan", op, [lit([[1.0, NAN, 3.0], [4.0, 5.0, 6.0]], "f32")], dims=[1])
    case("f32_0d", op, [randn()], **({"dims": [0]} if op == "logsumexp" else {}))
for op in ["var", "std"]:
    for c in [0, 1, 2]:
        case(f"f64_correction{c}", op, [randn(3, 4, 5, dt="f64")], dims=[2], correction=c)
    case("f64_single_element_c1", op, [randn(1, 4, dt="f64")], dims=[0], correction=1)
for p in [1, 2, 3, 0.5, 0, "inf", "-inf"]:
    case(f"p{str(p).replace('.', '_').replace('-', 'neg')}", "norm", [randn(3, 4, dt="f64")], dims=[1], p=p,
         grad=(p not in (0, "inf", "-inf")))
case("f32_all_p1", "norm", [randn(4, 3).t()], p=1)
for op, tag, x in [("sum", "empty", randn(0, 3)), ("mean", "empty", randn(0, 3)), ("sum", "empty_d0", randn(0, 3)),
                   ("all", "empty", randbool(0, 3)), ("any", "empty", randbool(0, 3)), ("norm", "empty", randn(0, 3))]:
    case(tag, op, [x], **({"dims": [0]} if tag.endswith("d0") else {}))
case("i32_promotes", "sum", [randint(-9, 9, 3, 4, dt="i32")], dims=[1])
case("bool_counts", "sum", [randbool(3, 4)])
case("u8", "sum", [randint(0, 255, 30, dt="u8")])
case("dtype_f64", "sum", [randn(3, 4)], dims=[0], dtype="float64")
case("i64_keep", "amax", [randint(-9, 9, 3, 4)], dims=[0], keepdim=True)
case("i32", "amin", [randint(-9, 9, 3, 4, dt="i32")], dims=[1])
case("bool", "amax", [randbool(3, 4)], dims=[1])
case("f64_ties_grad", "amax", [lit([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], "f64")], dims=[1], grad=True)
case("f64_ties_grad", "amin", [lit([[1.0, 1.0, 3.0], [0.0, 2.0, 2.0]], "f64")], dims=[1], grad=True)
# prod / max / min / argmax / argmin: one dim or everything.
for dt in FLOATS:
    x = uniform(0.5, 1.5, 3, 4, 5, dt=dt)
    case(f"{dt}_all", "prod", [x], grad=True)
    case(f"{dt}_d1", "prod", [x], dim=1, grad=True)
    case(f"{dt}_dneg_keep", "prod", [x], dim=-1, keepdim=True)
    case(f"{dt}_with_zero", "prod", [lit([[1.0, 0.0, 3.0], [2.0, 0.0, 0.0], [2.0, 3.0, 4.0]], dt)], dim=1, grad=True)
    case(f"{dt}_transposed", "prod", [randn(5, 3, dt=dt).t()], dim=1)
    for op in ["max", "min"]:
        case(f"{dt}_all", op, [perm(3, 4, 5, dt=dt)])
        case(f"{dt}_d1", op, [perm(3, 5, 4, dt=dt).t(1, 2)], dim=1, grad=True)
        case(f"{dt}_dneg_keep", op, [perm(3, 4, 5, dt=dt)], dim=-1, keepdim=True, grad=True)
        case(f"{dt}_nan", op, [lit([[1.0, NAN, 3.0], [4.0, 5.0, 6.0]], dt)], dim=1)
    for op in ["argmax", "argmin"]:
        case(f"{dt}_all", op, [randn(3, 4, 5, dt=dt)])
        case(f"{dt}_d0", op, [randn(3, 4, 5, dt=dt)], dim=0)
        case(f"{dt}_dneg_keep", op, [randn(5, 4, dt=dt).t()], dim=-1, keepdim=True)
        case(f"{dt}_ties", op, [lit([[1.0, 3.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0]], dt)], dim=1)
        case(f"{dt}_nan", op, [lit([[1.0, NAN, 3.0, NAN], [INF, 5.0, -INF, 6.0]], dt)], dim=1)
for op in ["max", "min", "argmax", "argmin"]:
    case("i64_ties", op, [randint(0, 3, 4, 6)], dim=1)
    case("i32_all", op, [randint(-50, 50, 4, 6, dt="i32")])
    case("f32_0d", op, [randn()])
case("i64", "prod", [randint(-3, 4, 3, 4)], dim=1)
case("bool", "prod", [randbool(3, 4)])
for op in ["all", "any"]:
    case("bool_all", op, [randbool(3, 4)])
    case("bool_d1", op, [Spec("lit", [[True, True, True], [True, False, True], [False, False, False]], "bool")], dims=[1])
    case("bool_d0_keep", op, [randbool(4, 3).t()], dims=[0], keepdim=True)
    case("f32_d1", op, [lit([[0.0, 1.0, NAN], [0.0, 0.0, -0.0], [2.0, 3.0, 4.0]], "f32")], dims=[1])
    case("i64_d02", op, [randint(0, 2, 2, 3, 4)], dims=[0, 2])
    case("u8", op, [randint(0, 3, 3, 4, dt="u8")], dims=[1])
for op in ["cumsum", "cumprod"]:
    for dt in FLOATS:
        case(f"{dt}_d0", op, [uniform(0.5, 1.5, 4, 5, dt=dt)], dim=0, grad=True)
        case(f"{dt}_dneg", op, [uniform(0.5, 1.5, 4, 5, dt=dt)], dim=-1, grad=True)
        case(f"{dt}_transposed", op, [randn(5, 4, dt=dt).t()], dim=1)
        case(f"{dt}_nan", op, [lit([1.0, 2.0, NAN, 3.0, INF, -1.0], dt)], dim=0)
    case("i32", op, [randint(-3, 4, 3, 4, dt="i32")], dim=1)
    case("bool", op, [randbool(3, 4)], dim=1)
    case("empty", op, [randn(0, 4)], dim=0)
    case("dtype_f64", op, [randint(1, 4, 6)], dim=0, dtype="float64")
case("with_zero_grad", "cumprod", [lit([2.0, 0.0, 3.0, 0.5, 0.0, 4.0], "f64")], dim=0, grad=True)
