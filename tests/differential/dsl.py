"""The vocabulary of the case table (cases_*.py): input specs, case(), shared op lists, and the
reasons of the known ricci divergences, in one place so they are easy to review.

    case("f32_transposed", "add", [randn(3, 4), randn(4, 3).reseed(1).t()], grad=True)

names the case add_f32_transposed: ricci's add of a float32 (3, 4) tensor and a transposed one,
with the gradients of both inputs, against PyTorch's.
"""
from golden_io import Spec

__all__ = ["NAN", "INF", "NONFINITE", "SPECIAL", "FLOATS", "FLOAT_UNARY", "ARITH", "NO_SCALAR_FORM", "CASES",
           "Spec", "case", "randn", "uniform", "randint", "randbool", "perm", "lit"]

NAN, INF = float("nan"), float("inf")
NONFINITE = ("nan", "inf", "-inf")  # how the manifest spells non-finite attrs (JSON has no literal)


# ---- input specs: a base tensor drawn from a generator seeded by the spec; views via .t() etc. ------
def randn(*shape, dt="f32"):
    return Spec("randn", shape, dt)


def uniform(lo, hi, *shape, dt="f32"):
    return Spec("uniform", (lo, hi, shape), dt)


def randint(lo, hi, *shape, dt="i64"):
    return Spec("randint", (lo, hi, shape), dt)


def randbool(*shape):
    return Spec("randint", (0, 2, shape), "bool")


def perm(*shape, dt="f32"):  # distinct values along the last dim (sorting without ties)
    return Spec("perm", shape, dt)


def lit(values, dt="f32"):
    return Spec("lit", values, dt)


# Values that probe the edges of float unary ops: NaN, ±inf, signed zeros, halves (rounding),
# tiny and large magnitudes.
SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-8, -1e-8, 30.0, -30.0, 100.0, -100.0, 1e30]

FLOATS = ["f32", "f64"]
FLOAT_UNARY = ["neg", "abs", "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
               "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "erf",
               "floor", "ceil", "round", "trunc", "silu", "softplus", "logical_not", "isnan", "isinf",
               "isfinite"]
ARITH = ["add", "sub", "mul", "div", "maximum", "minimum", "fmod", "remainder", "atan2", "pow"]
NO_SCALAR_FORM = ["maximum", "minimum", "atan2"]  # neither PyTorch nor ricci takes a Scalar here

# ---- the table ------------------------------------------------------------------------------------
CASES = []


def case(name, op, inputs, grad=False, rtol=None, atol=None, known=None, **attrs):
    """One case, named <op>_<name>. inputs: specs, or None for an optional tensor left out.
    grad: True for every floating input, or a list of input positions: PyTorch's gradients of
    sum(out * upstream) with respect to those inputs (before their views) are recorded. rtol/atol
    override the per-dtype defaults of the C++ side. known: the reason of a ricci bug. attrs: the
    op's scalar arguments, as the C++ table reads them."""
    CASES.append(dict(name=f"{op}_{name}", op=op, inputs=inputs, grad=grad, rtol=rtol, atol=atol,
                      known=known, attrs=attrs))


# ---- known divergences: ricci bugs the table keeps (reported as skipped with these reasons) ----------
# (none at present)
