"""Elementwise cases: unary, binary arithmetic, type promotion, comparisons, logical and
bitwise ops, ternary blends.

Part of the table of make_golden.py; the vocabulary (randn, case, ...) is in dsl.py."""
from dsl import *  # noqa: F401,F403 (the table's vocabulary)

# -- unary: every float op on contiguous and special values (float32, float64), and transposed,
# step-sliced, empty and 0-d (float32).
for op in FLOAT_UNARY + ["gelu"]:
    for dt in FLOATS:
        case(f"{dt}", op, [randn(3, 4, dt=dt)])
        # PyTorch's float32 gelu gives NaN at +inf (its float64 gelu, and ricci, give +inf): leave +inf out.
        special = [v for v in SPECIAL if v != INF] if (op, dt) == ("gelu", "f32") else SPECIAL
        case(f"{dt}_special", op, [lit(special, dt)])
    case("f32_transposed", op, [randn(4, 3).t()])
    case("f32_step", op, [randn(3, 8).step(1, 2)])
    case("f32_empty", op, [randn(0, 3)])
    case("f32_0d", op, [randn()])
for dt in FLOATS:
    case(f"tanh_{dt}", "gelu", [randn(3, 4, dt=dt)], approximate="tanh")
    case(f"tanh_{dt}_special", "gelu", [lit(SPECIAL, dt)], approximate="tanh")
    case(f"beta_{dt}", "softplus", [randn(3, 4, dt=dt)], beta=2.0, threshold=5.0)
    case(f"{dt}_minmax", "clamp", [randn(3, 4, dt=dt)], min=-0.5, max=0.5)
    case(f"{dt}_min_only", "clamp", [randn(4, 3, dt=dt).t()], min=0.1)
    case(f"{dt}_max_only", "clamp", [randn(3, 4, dt=dt)], max=-0.2)
    case(f"{dt}_special", "clamp", [lit(SPECIAL, dt)], min=-1.0, max=2.0)
    case(f"{dt}_min_gt_max", "clamp", [randn(5, dt=dt)], min=1.0, max=-1.0)
    case(f"{dt}_tensor_bounds", "clamp", [randn(3, 4, dt=dt), uniform(-1, 0, 3, 1, dt=dt), uniform(0, 1, 4, dt=dt)])
    case(f"{dt}_tensor_min_only", "clamp", [randn(3, 4, dt=dt), uniform(-1, 0, 4, dt=dt), None])
# Integer and bool inputs: ops that keep the dtype, and float-only ops that promote to float32.
for dt in ["i64", "i32"]:
    for op in ["neg", "abs", "sign", "square", "floor", "ceil", "round", "trunc", "relu", "bitwise_not",
               "logical_not", "isnan", "isinf", "isfinite", "exp", "sqrt", "sigmoid", "log1p", "reciprocal"]:
        case(dt, op, [randint(-5, 6, 3, 4, dt=dt)])
    case(f"{dt}_bounds", "clamp", [randint(-10, 10, 12, dt=dt)], min=-3, max=4)
    case(f"{dt}_float_bound", "clamp", [randint(-10, 10, 12, dt=dt)], min=-2.5)
for op in ["logical_not", "bitwise_not", "square", "exp", "isnan", "sign"]:
    case("bool", op, [randbool(3, 4)])
case("u8", "neg", [randint(0, 255, 10, dt="u8")])
case("u8", "abs", [randint(0, 255, 10, dt="u8")])
case("i8_wrap", "neg", [lit([-128, -1, 0, 1, 127], "i8")])

# -- binary arithmetic: contiguous, a transposed operand, broadcast (3,1)+(1,4) and an expanded
# view, a C++ scalar, and an empty tensor.
for op in ARITH:
    for dt in FLOATS:
        base = uniform(0.5, 2.0, 3, 4, dt=dt) if op == "pow" else randn(3, 4, dt=dt)
        other = uniform(-2, 2, 3, 4, dt=dt).reseed(1) if op == "pow" else randn(3, 4, dt=dt).reseed(1)
        case(dt, op, [base, other])
        case(f"{dt}_bcast", op, [uniform(0.5, 2, 3, 1, dt=dt), randn(1, 4, dt=dt).reseed(1)])
        if op not in NO_SCALAR_FORM:
            case(f"{dt}_scalar", op, [base], scalar=1.5)
        case(f"{dt}_special", op, [lit(SPECIAL, dt), lit(list(reversed(SPECIAL)), dt)])
    base = uniform(0.5, 2.0, 3, 4) if op == "pow" else randn(3, 4)
    case("f32_transposed", op, [base, randn(4, 3).reseed(1).t()])
    case("f32_step", op, [randn(3, 8).step(1, 2), randn(3, 4).reseed(1)])
    case("f32_expanded", op, [uniform(0.5, 2, 4).expand(3, 4), randn(3, 4).reseed(1)])
    if op not in NO_SCALAR_FORM:
        case("f32_int_scalar", op, [base], scalar=-2)
    case("f32_empty", op, [randn(0, 4), randn(1, 4)])
    case("f32_0d", op, [randn(), randn(2, 3).reseed(1)])
for op in ["add", "sub", "mul", "maximum", "minimum"]:
    for dt in ["i64", "i32", "i16", "u8"]:
        case(dt, op, [randint(-20, 20, 3, 4, dt=dt) if dt != "u8" else randint(0, 200, 3, 4, dt=dt),
                      randint(-20, 20, 4, 3, dt=dt).reseed(1).t() if dt != "u8" else randint(0, 50, 3, 4, dt=dt)])
    if op not in NO_SCALAR_FORM:
        case("i64_scalar", op, [randint(-20, 20, 3, 4)], scalar=7)
case("alpha_f32", "add", [randn(3, 4), randn(3, 4).reseed(1)], alpha=2.5)
case("alpha_i64", "sub", [randint(-9, 9, 5), randint(-9, 9, 5).reseed(1)], alpha=3)
# Integer overflow wraps in PyTorch; in C++ signed overflow is undefined behaviour.
case("i32_wrap", "add", [lit([2147483647, -2147483648], "i32"), lit([1, -1], "i32")])
case("i64", "fmod", [randint(-20, 20, 12), lit([3, -3, 5, -5, 7, -7, 1, -1, 2, -2, 4, -4], "i64")])
case("i64", "remainder", [randint(-20, 20, 12), lit([3, -3, 5, -5, 7, -7, 1, -1, 2, -2, 4, -4], "i64")])
case("i64_scalar", "remainder", [randint(-20, 20, 12)], scalar=-3)
case("f32_neg_divisor", "remainder", [uniform(-5, 5, 12)], scalar=-1.5)
case("i64", "pow", [randint(-4, 5, 12), randint(0, 5, 12).reseed(1)])
case("i64_scalar", "pow", [randint(-4, 5, 12)], scalar=3)
case("i64_float_scalar", "pow", [randint(0, 5, 12)], scalar=0.5)
case("f32_scalar_half", "pow", [uniform(0, 4, 12)], scalar=0.5)
case("f32_scalar_neg", "pow", [uniform(0.5, 4, 12)], scalar=-1)
case("f32_scalar_two", "pow", [randn(12)], scalar=2)
case("f32_negative_base", "pow", [lit([-2.0, -2.0, -0.5, 0.0, 0.0, 1.0], "f32"), lit([2.0, 0.5, 3.0, 0.0, -1.0, NAN], "f32")])
case("scalar_base_f32", "pow", [randn(12)], scalar_base=2.0)
case("scalar_base_int_f64", "pow", [randn(12, dt="f64")], scalar_base=3)
# True division of integers gives float32; floor/trunc keep the integer dtype.
case("i64_true", "div", [randint(-20, 20, 12), lit([3, -3, 5, -5, 7, -7, 1, -1, 2, -2, 4, -4], "i64")])
for mode in ["floor", "trunc"]:
    case(f"i64_{mode}", "div", [randint(-20, 20, 12), lit([3, -3, 5, -5, 7, -7, 1, -1, 2, -2, 4, -4], "i64")],
         rounding_mode=mode)
    case(f"i32_{mode}_scalar", "div", [randint(-20, 20, 12, dt="i32")], scalar=-3, rounding_mode=mode)
    for dt in FLOATS:
        case(f"{dt}_{mode}", "div", [uniform(-5, 5, 3, 4, dt=dt), uniform(-2, 2, 4, dt=dt)], rounding_mode=mode)
        case(f"{dt}_{mode}_special", "div", [lit(SPECIAL, dt), lit([0.0, 1.0, -1.0] * 6, dt)], rounding_mode=mode)
case("f32_by_zero", "div", [lit([1.0, -1.0, 0.0, NAN], "f32"), lit([0.0, 0.0, 0.0, 0.0], "f32")])
# Type promotion.
case("promote_i64_f32", "add", [randint(-9, 9, 3, 4), randn(3, 4)])
case("promote_i32_i64", "add", [randint(-9, 9, 3, 4, dt="i32"), randint(-9, 9, 4, dt="i64")])
case("promote_bool_i32", "add", [randbool(3, 4), randint(-9, 9, 3, 4, dt="i32")])
case("promote_bool_bool", "add", [randbool(3, 4), randbool(3, 4).reseed(1)])
case("promote_u8_i8", "mul", [randint(0, 9, 6, dt="u8"), randint(-9, 9, 6, dt="i8")])
case("promote_f32_f64", "mul", [randn(3, 4), randn(3, 4, dt="f64")])
case("promote_f32_int_scalar", "mul", [randn(3, 4)], scalar=3)
case("promote_f64_float_scalar", "mul", [randn(3, 4, dt="f64")], scalar=0.1)
case("promote_i32_int_scalar", "mul", [randint(-9, 9, 5, dt="i32")], scalar=3)
case("promote_i32_float_scalar", "mul", [randint(-9, 9, 5, dt="i32")], scalar=2.5)
case("promote_i64_bool_scalar", "add", [randint(-9, 9, 5)], scalar=True)
case("promote_bool_int_scalar", "add", [randbool(5)], scalar=3)
case("promote_0d_f64_with_f32", "add", [randn(3, 4), randn(dt="f64")])
case("promote_0d_f32_with_i64", "add", [randint(-9, 9, 3, 4), randn()])
case("promote_0d_i64_with_i32", "add", [randint(-9, 9, 3, 4, dt="i32"), randint(-9, 9)])
case("promote_f16_f32", "add", [randn(6, dt="f16"), randn(6).reseed(1)])
case("promote_i32_by_i64", "div", [randint(-9, 9, 5, dt="i32"), lit([1, 2, -3, 4, 5], "i64")])
case("promote_i64_f32", "maximum", [randint(-2, 2, 3, 4), randn(3, 4)])

# -- comparisons and logical / bitwise ops.
for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
    for dt in FLOATS:
        # Rounded values so that equal pairs occur.
        a, b = randint(-2, 3, 3, 4, dt=dt), randint(-2, 3, 3, 4, dt=dt).reseed(1)
        case(dt, op, [a, b])
        case(f"{dt}_nan", op, [lit([NAN, NAN, 1.0, INF, -INF, 0.0], dt), lit([NAN, 1.0, NAN, INF, INF, -0.0], dt)])
    case("f32_bcast", op, [randint(-2, 3, 3, 1, dt="f32"), randint(-2, 3, 4, dt="f32").reseed(1)])
    case("f32_transposed", op, [randint(-2, 3, 3, 4, dt="f32"), randint(-2, 3, 4, 3, dt="f32").reseed(1).t()])
    case("f32_scalar", op, [randint(-2, 3, 3, 4, dt="f32")], scalar=1)
    case("i64", op, [randint(-2, 3, 3, 4), randint(-2, 3, 3, 4).reseed(1)])
    case("i32_float_scalar", op, [randint(-2, 3, 3, 4, dt="i32")], scalar=0.5)
    case("i64_f32", op, [randint(-2, 3, 3, 4), randint(-2, 3, 3, 4, dt="f32").reseed(1)])
    case("bool", op, [randbool(3, 4), randbool(3, 4).reseed(1)])
    case("empty", op, [randn(0, 3), randn(0, 3).reseed(1)])
for op in ["logical_and", "logical_or", "logical_xor"]:
    case("bool", op, [randbool(3, 4), randbool(3, 4).reseed(1)])
    case("bool_bcast", op, [randbool(3, 1), randbool(4).reseed(1)])
    case("f32", op, [lit([0.0, 1.5, -0.0, NAN, 0.0, 2.0], "f32"), lit([0.0, 0.0, 3.0, 0.0, 1.0, 2.0], "f32")])
    case("i64_f64", op, [randint(-1, 2, 3, 4), randint(-1, 2, 4, 3, dt="f64").t()])
for op in ["bitwise_and", "bitwise_or", "bitwise_xor"]:
    for dt in ["i64", "i32", "i8", "u8"]:
        lo = 0 if dt == "u8" else -100
        case(dt, op, [randint(lo, 100, 3, 4, dt=dt), randint(lo, 100, 4, 3, dt=dt).reseed(1).t()])
    case("bool", op, [randbool(3, 4), randbool(3, 4).reseed(1)])
    case("i64_scalar", op, [randint(-100, 100, 3, 4)], scalar=0x5A)
    case("i32_i64", op, [randint(-100, 100, 3, 4, dt="i32"), randint(-100, 100, 4)])

# -- ternary.
for dt in FLOATS:
    case(dt, "where", [randbool(3, 4), randn(3, 4, dt=dt), randn(3, 4, dt=dt).reseed(1)], grad=[1, 2])
    case(f"{dt}_bcast", "where", [randbool(3, 1), randn(4, dt=dt), randn(3, 4, dt=dt).reseed(1)], grad=[1, 2])
    case(f"{dt}_transposed", "where", [randbool(4, 3).t(), randn(4, 3, dt=dt).t(), randn(3, 4, dt=dt)])
    case(f"{dt}_scalar_weight", "lerp", [randn(3, 4, dt=dt), randn(3, 4, dt=dt).reseed(1)], weight=0.3, grad=True)
    case(f"{dt}_tensor_weight", "lerp", [randn(3, 4, dt=dt), randn(4, dt=dt).reseed(1), uniform(0, 1, 3, 1, dt=dt)],
         grad=True)
    case(f"{dt}_big_weight", "lerp", [randn(4, 3, dt=dt).t(), randn(3, 4, dt=dt).reseed(1)], weight=0.8)
    case(dt, "addcmul", [randn(3, 4, dt=dt), randn(3, 1, dt=dt), randn(4, dt=dt).reseed(1)], value=0.5, grad=True)
    case(dt, "addcdiv", [randn(3, 4, dt=dt), randn(4, 3, dt=dt).t(), uniform(0.5, 2, 4, dt=dt)], value=-2.0, grad=True)
case("i64_f32", "where", [randbool(3, 4), randint(-5, 5, 3, 4), randn(3, 4)])
case("i32_i64", "where", [randbool(3, 4), randint(-5, 5, 3, 4, dt="i32"), randint(-5, 5, 4)])
case("bool", "where", [randbool(3, 4), randbool(3, 4).reseed(1), randbool(3, 4).reseed(2)])
case("empty", "where", [randbool(0, 4), randn(0, 4), randn(1, 4)])
case("i64_default_value", "addcmul", [randint(-5, 5, 6), randint(-5, 5, 6).reseed(1), randint(-5, 5, 6).reseed(2)])
