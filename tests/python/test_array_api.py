"""The array API namespace (ricci.array_api, what Tensor.__array_namespace__() returns): every
function it exposes, hypothesis-generated inputs (odd shapes, empty and 0-d arrays, broadcasting,
non-contiguous views, NaN/inf, ties) against numpy; the data type functions against
array-api-strict (the standard's reference) where it is installed."""
import math

import pytest

ricci = pytest.importorskip("ricci")
np = pytest.importorskip("numpy")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

xp = ricci.array_api
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy on empty and NaN inputs
SETTINGS = settings(max_examples=30, deadline=None)

# ---- the standard's names --------------------------------------------------------------------------------

STANDARD_FUNCTIONS = """
arange asarray empty empty_like eye from_dlpack full full_like linspace meshgrid ones ones_like tril triu zeros
zeros_like astype can_cast finfo iinfo isdtype result_type abs acos acosh add asin asinh atan atan2 atanh
bitwise_and bitwise_left_shift bitwise_invert bitwise_or bitwise_right_shift bitwise_xor ceil clip conj copysign cos
cosh divide equal exp expm1 floor floor_divide greater greater_equal hypot imag isfinite isinf isnan less less_equal
log log1p log2 log10 logaddexp logical_and logical_not logical_or logical_xor maximum minimum multiply negative
not_equal positive pow real remainder round sign signbit sin sinh square sqrt subtract tan tanh trunc take matmul
matrix_transpose tensordot vecdot broadcast_arrays broadcast_to concat expand_dims flip moveaxis permute_dims repeat
reshape roll squeeze stack tile unstack argmax argmin nonzero searchsorted where unique_all unique_counts
unique_inverse unique_values argsort sort cumulative_sum max mean min prod std sum var all any
__array_namespace_info__""".split()
STANDARD_CONSTANTS = "e inf nan newaxis pi".split()
# The standard's dtypes that ricci lacks (docs/python.md): wider unsigned integers and complex.
NOT_PROVIDED_DTYPES = {"uint16", "uint32", "uint64", "complex64", "complex128"}
STANDARD_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64"]

# Every function below is called by some test in this file (test_every_function_is_tested checks
# that the namespace exposes nothing else).
TESTED = set(STANDARD_FUNCTIONS)


def test_namespace_and_names():
    x = ricci.ones(2)
    assert x.__array_namespace__() is xp
    assert x.__array_namespace__(api_version="2023.12") is xp
    with pytest.raises(ValueError, match="2023.12"):
        x.__array_namespace__(api_version="1999.01")
    assert xp.__array_api_version__ == "2023.12"
    missing = [n for n in STANDARD_FUNCTIONS + STANDARD_CONSTANTS if not hasattr(xp, n)]
    assert missing == []
    assert [d for d in STANDARD_DTYPES if not hasattr(xp, d)] == []
    assert [d for d in NOT_PROVIDED_DTYPES if hasattr(xp, d)] == []
    assert xp.e == math.e and xp.pi == math.pi and xp.inf == math.inf and math.isnan(xp.nan) and xp.newaxis is None
    assert x.to_device("cpu").device == x.device
    assert ricci.ones(2, 3).mT.shape == (3, 2)


def test_every_function_is_tested():
    exposed = {n for n in dir(xp) if callable(getattr(xp, n)) and not n.startswith("_")
               and not isinstance(getattr(xp, n), type) and not isinstance(getattr(xp, n), ricci.dtype)}
    exposed.add("__array_namespace_info__")
    assert exposed - TESTED == set()


def test_namespace_info():
    info = xp.__array_namespace_info__()
    caps = info.capabilities()
    assert caps["boolean indexing"] is True and caps["data-dependent shapes"] is True
    assert info.default_device() == ricci.device("cpu")
    assert info.default_dtypes() == {"real floating": xp.float32, "complex floating": None, "integral": xp.int64,
                                     "indexing": xp.int64}
    assert set(info.dtypes()) == set(STANDARD_DTYPES)
    assert set(info.dtypes(kind="integral")) == {"int8", "int16", "int32", "int64", "uint8"}
    assert set(info.dtypes(kind="real floating")) == {"float32", "float64"}
    assert ricci.device("cpu") in info.devices()


# ---- helpers ----------------------------------------------------------------------------------------------

NP = {"bool": np.bool_, "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64, "uint8": np.uint8,
      "float16": np.float16, "float32": np.float32, "float64": np.float64}
FLOATS = ["float32", "float64"]
INTS = ["int8", "int16", "int32", "int64", "uint8"]
SIGNED = ["int8", "int16", "int32", "int64"]


def rd(name):
    return getattr(xp, name)


def tol(dtype):
    return {"float32": (2e-5, 1e-6), "float16": (2e-3, 1e-3), "float64": (1e-10, 1e-12)}.get(dtype, (0, 0))


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def float_elements(dtype, lo=-20.0, hi=20.0, specials=True):
    width = 32 if dtype == "float32" else 64
    base = st.floats(lo, hi, width=width)
    if not specials:
        return base
    return st.one_of(base, base, base, st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan]))


def int_elements(dtype, lo=None, hi=None):
    info = np.iinfo(NP[dtype])
    return st.integers(info.min if lo is None else max(lo, info.min), info.max if hi is None else min(hi, info.max))


def elements(dtype, **kw):
    if dtype == "bool":
        return st.booleans()
    if dtype in FLOATS:
        return float_elements(dtype, **kw)
    return int_elements(dtype, **{k: v for k, v in kw.items() if k in ("lo", "hi")})


@st.composite
def arrays(draw, dtype, shape=None, **kw):
    shape = draw(shapes()) if shape is None else shape
    return draw(hnp.arrays(NP[dtype], shape, elements=elements(dtype, **kw)))


@st.composite
def layouts(draw):
    return draw(st.sampled_from(["contiguous", "transposed", "strided"]))


def to_ricci(a, layout="contiguous"):
    """The numpy array's values as a ricci tensor, contiguous or as a non-contiguous view."""
    a = np.array(a, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    if layout == "transposed" and a.ndim >= 2:
        return xp.asarray(np.ascontiguousarray(a.swapaxes(0, -1)).copy()).mT if a.ndim == 2 else \
            xp.permute_dims(xp.asarray(np.ascontiguousarray(a.swapaxes(0, -1)).copy()),
                            [a.ndim - 1] + list(range(1, a.ndim - 1)) + [0])
    if layout == "strided" and a.ndim >= 1:
        wide = np.zeros(a.shape[:-1] + (a.shape[-1] * 2,), dtype=a.dtype)
        wide[..., ::2] = a
        r = xp.asarray(wide.copy())
        return r[..., ::2]
    return xp.asarray(a.copy())


def check(got, expected, dtype=None, exact_dtype=True):
    assert isinstance(got, ricci.Tensor), type(got)
    expected = np.asarray(expected)
    g = np.asarray(got.to(xp.float32) if got.dtype == xp.bfloat16 else got)
    assert g.shape == expected.shape, (g.shape, expected.shape)
    if exact_dtype:
        assert g.dtype == expected.dtype, (g.dtype, expected.dtype)
    if expected.dtype.kind == "f":
        rtol, atol = tol(dtype or str(expected.dtype))
        np.testing.assert_allclose(g.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(g, expected)


# ---- elementwise: unary ---------------------------------------------------------------------------------

UNARY_FLOAT = ["abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "exp", "expm1",
               "floor", "isfinite", "isinf", "isnan", "log", "log1p", "log2", "log10", "negative", "positive",
               "round", "sign", "signbit", "sin", "sinh", "sqrt", "square", "tan", "tanh", "trunc", "conj", "real",
               "imag", "logical_not"]
NP_NAME = {"acos": "arccos", "acosh": "arccosh", "asin": "arcsin", "asinh": "arcsinh", "atan": "arctan",
           "atanh": "arctanh", "atan2": "arctan2", "bitwise_invert": "invert", "concat": "concatenate",
           "pow": "power", "bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift",
           "permute_dims": "transpose"}


def np_fn(name):
    return getattr(np, NP_NAME.get(name, name))


@pytest.mark.parametrize("name", UNARY_FLOAT)
@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
def test_unary_float(name, dtype, data):
    a = data.draw(arrays(dtype))
    layout = data.draw(layouts())
    with np.errstate(all="ignore"):
        expected = np_fn(name)(a)
    if name == "sign":  # the standard: sign(NaN) is NaN; numpy agrees
        pass
    got = rd(name)(to_ricci(a, layout))
    check(got, expected, dtype)


UNARY_INT = ["abs", "negative", "positive", "sign", "square", "bitwise_invert", "ceil", "floor", "round", "trunc",
             "logical_not", "isfinite", "isinf", "isnan", "conj", "real", "imag"]


@pytest.mark.parametrize("name", UNARY_INT)
@pytest.mark.parametrize("dtype", INTS + ["bool"])
@SETTINGS
@given(data=st.data())
def test_unary_integer_and_bool(name, dtype, data):
    if dtype == "bool" and name in ("negative", "abs", "sign", "square", "ceil", "floor", "round", "trunc",
                                    "positive", "imag"):
        return  # not defined for bool by the standard
    a = data.draw(arrays(dtype, lo=-100, hi=100))
    if name in ("ceil", "floor", "round", "trunc"):
        expected = a  # the standard: integers are returned unchanged, same dtype
    elif name == "square":
        expected = (a * a).astype(a.dtype)
    elif name == "imag":
        expected = np.zeros_like(a)
    elif name in ("conj", "real"):
        expected = a  # (numpy's conj turns bool into int8)
    else:
        with np.errstate(all="ignore"):
            expected = np_fn(name)(a)
    got = rd(name)(to_ricci(a, data.draw(layouts())))
    check(got, expected)


# ---- elementwise: binary ----------------------------------------------------------------------------------


@st.composite
def two_arrays(draw, dtype1, dtype2=None, elements1=None, elements2=None):
    s1, s2 = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=4)).input_shapes
    a = draw(hnp.arrays(NP[dtype1], s1, elements=elements1 if elements1 is not None else elements(dtype1)))
    b = draw(hnp.arrays(NP[dtype2 or dtype1], s2, elements=elements2 if elements2 is not None else elements(dtype2 or dtype1)))
    return a, b


BINARY_FLOAT = ["add", "subtract", "multiply", "divide", "atan2", "hypot", "logaddexp", "maximum", "minimum",
                "pow", "remainder", "floor_divide", "copysign", "equal", "not_equal", "greater", "greater_equal",
                "less", "less_equal"]


@pytest.mark.parametrize("name", BINARY_FLOAT)
@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
def test_binary_float_with_broadcasting(name, dtype, data):
    a, b = data.draw(two_arrays(dtype))
    if name == "pow":
        a = np.abs(a)  # a negative base with a fractional exponent is NaN in both; keep most values finite
    with np.errstate(all="ignore"):
        expected = np_fn(name)(a, b)
    got = rd(name)(to_ricci(a, data.draw(layouts())), to_ricci(b))
    if name in ("remainder", "floor_divide"):  # numpy and PyTorch differ only in the sign of zero / inf cases
        fin = np.isfinite(np.asarray(got)) & np.isfinite(expected)
        np.testing.assert_allclose(np.asarray(got)[fin], expected[fin], rtol=1e-4, atol=1e-4)
        return
    check(got, expected, dtype)


BINARY_INT = ["add", "subtract", "multiply", "maximum", "minimum", "remainder", "floor_divide", "bitwise_and",
              "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "pow", "equal", "not_equal",
              "greater", "greater_equal", "less", "less_equal"]


@pytest.mark.parametrize("name", BINARY_INT)
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8"])
@SETTINGS
@given(data=st.data())
def test_binary_integer(name, dtype, data):
    e2 = None
    if name in ("bitwise_left_shift", "bitwise_right_shift"):
        e2 = int_elements(dtype, 0, np.iinfo(NP[dtype]).bits - 1)
    elif name in ("remainder", "floor_divide"):
        e2 = int_elements(dtype, 1, 50) if dtype == "uint8" else st.one_of(int_elements(dtype, 1, 50),
                                                                             int_elements(dtype, -50, -1))
    elif name == "pow":
        e2 = int_elements(dtype, 0, 3)
    e1 = int_elements(dtype, -30, 30) if name in ("pow", "multiply") else None
    a, b = data.draw(two_arrays(dtype, elements1=e1, elements2=e2))
    with np.errstate(all="ignore"):
        expected = np_fn(name)(a, b)
    got = rd(name)(to_ricci(a, data.draw(layouts())), to_ricci(b))
    check(got, expected)


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
                                  "bitwise_xor", "equal", "not_equal"])
@SETTINGS
@given(data=st.data())
def test_binary_bool(name, data):
    a, b = data.draw(two_arrays("bool"))
    check(rd(name)(to_ricci(a), to_ricci(b, data.draw(layouts()))), np_fn(name)(a, b))


PROMOTION_PAIRS = [("int8", "int16"), ("int8", "uint8"), ("int16", "int64"), ("uint8", "int32"), ("int32", "int64"),
                   ("float32", "float64"), ("bool", "bool"), ("uint8", "int8")]


@pytest.mark.parametrize("d1,d2", PROMOTION_PAIRS)
@SETTINGS
@given(data=st.data())
def test_type_promotion_of_mixed_dtypes(d1, d2, data):
    a, b = data.draw(two_arrays(d1, d2, elements(d1, lo=-10, hi=10) if d1 != "bool" else None,
                                elements(d2, lo=-10, hi=10) if d2 != "bool" else None))
    op = "logical_and" if d1 == "bool" else "add"
    check(rd(op)(to_ricci(a), to_ricci(b)), np_fn(op)(a, b), exact_dtype=True)
    assert xp.result_type(xp.asarray(a), xp.asarray(b)) == getattr(xp, str(np.result_type(a, b)))


@SETTINGS
@given(data=st.data())
def test_python_scalars_take_the_arrays_dtype(data):
    a = data.draw(arrays("float32"))
    check(xp.add(to_ricci(a), 1.5), (a + np.float32(1.5)).astype(np.float32), "float32")
    i = data.draw(arrays("int16", lo=-100, hi=100))
    check(xp.multiply(to_ricci(i), 3), (i * np.int16(3)).astype(np.int16))
    check(xp.greater(to_ricci(i), 2), i > 2)


@SETTINGS
@given(data=st.data())
def test_clip(data):
    dtype = data.draw(st.sampled_from(FLOATS + ["int32", "int64"]))
    a = data.draw(arrays(dtype, lo=-50, hi=50) if dtype in INTS else arrays(dtype, specials=False))
    lo = data.draw(st.one_of(st.none(), st.integers(-20, 0)))
    hi = data.draw(st.one_of(st.none(), st.integers(0, 20)))
    expected = a if lo is None and hi is None else np.clip(a, lo, hi).astype(a.dtype)
    check(xp.clip(to_ricci(a), min=lo, max=hi), expected, dtype)
    lo_arr = np.full(a.shape[-1:] if a.ndim else (), -3, dtype=a.dtype)
    check(xp.clip(to_ricci(a), min=xp.asarray(lo_arr)), np.maximum(a, lo_arr), dtype)


def test_signbit_and_copysign_see_negative_zero_and_nan_signs():
    x = xp.asarray([0.0, -0.0, 1.0, -1.0, math.inf, -math.inf])
    assert xp.signbit(x).tolist() == [False, True, False, True, False, True]
    assert xp.signbit(-xp.asarray([math.nan])).tolist() == np.signbit(-np.array([np.nan])).tolist()
    c = xp.copysign(xp.asarray([1.0, 2.0, 3.0]), xp.asarray([-0.0, 0.0, -5.0]))
    assert c.tolist() == [-1.0, 2.0, -3.0]


# ---- creation --------------------------------------------------------------------------------------------


@SETTINGS
@given(start=st.integers(-20, 20), stop=st.integers(-20, 20), step=st.integers(1, 5) | st.integers(-5, -1))
def test_arange_integers(start, stop, step):
    check(xp.arange(start, stop, step), np.arange(start, stop, step))
    check(xp.arange(abs(stop)), np.arange(abs(stop)))


@SETTINGS
@given(start=st.floats(-10, 10), stop=st.floats(-10, 10), num=st.integers(0, 20), endpoint=st.booleans())
def test_arange_floats_and_linspace(start, stop, num, endpoint):
    check(xp.arange(start, stop, 0.5), np.arange(start, stop, 0.5).astype(np.float32), "float32", exact_dtype=False)
    check(xp.linspace(start, stop, num, endpoint=endpoint, dtype=xp.float64),
          np.linspace(start, stop, num, endpoint=endpoint))
    assert xp.linspace(start, stop, num).dtype == xp.float32


@SETTINGS
@given(shape=shapes(), dtype=st.sampled_from(STANDARD_DTYPES), fill=st.integers(-3, 3))
def test_filled_creation(shape, dtype, fill):
    dt = getattr(xp, dtype)
    check(xp.zeros(shape, dtype=dt), np.zeros(shape, NP[dtype]))
    check(xp.ones(shape, dtype=dt), np.ones(shape, NP[dtype]))
    if dtype != "uint8" or fill >= 0:
        check(xp.full(shape, fill, dtype=dt), np.full(shape, fill, NP[dtype]))
    assert xp.empty(shape, dtype=dt).shape == shape and xp.empty(shape, dtype=dt).dtype == dt
    like = to_ricci(np.zeros(shape, NP[dtype]))
    check(xp.zeros_like(like), np.zeros(shape, NP[dtype]))
    check(xp.ones_like(like, dtype=xp.float64), np.ones(shape))
    check(xp.full_like(like, 1), np.full(shape, 1, NP[dtype]))
    assert xp.empty_like(like).shape == shape
    # default dtypes from the fill value
    assert xp.full(shape, 1.5).dtype == xp.float32 and xp.full(shape, 2).dtype == xp.int64
    assert xp.full(shape, True).dtype == xp.bool and xp.zeros(shape).dtype == xp.float32


@SETTINGS
@given(n=st.integers(0, 6), m=st.one_of(st.none(), st.integers(0, 6)), k=st.integers(-7, 7))
def test_eye(n, m, k):
    check(xp.eye(n, m, k=k), np.eye(n, m, k=k, dtype=np.float32))
    check(xp.eye(n, m, k=k, dtype=xp.int32), np.eye(n, m, k=k, dtype=np.int32))


@SETTINGS
@given(data=st.data())
def test_tril_triu(data):
    a = data.draw(arrays("float64", shape=data.draw(shapes(min_dims=2, max_dims=4))))
    k = data.draw(st.integers(-4, 4))
    layout = data.draw(layouts())
    check(xp.tril(to_ricci(a, layout), k=k), np.tril(a, k))
    check(xp.triu(to_ricci(a, layout), k=k), np.triu(a, k))


@SETTINGS
@given(sizes=st.lists(st.integers(0, 4), min_size=0, max_size=3), indexing=st.sampled_from(["xy", "ij"]))
def test_meshgrid(sizes, indexing):
    arrs = [np.arange(s, dtype=np.float64) + 10 * i for i, s in enumerate(sizes)]
    got = xp.meshgrid(*[xp.asarray(a) for a in arrs], indexing=indexing)
    expected = np.meshgrid(*arrs, indexing=indexing)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        check(g, e)


@SETTINGS
@given(data=st.data())
def test_asarray_and_from_dlpack(data):
    dtype = data.draw(st.sampled_from(STANDARD_DTYPES))
    a = data.draw(arrays(dtype))
    shared = xp.asarray(a)  # a numpy array is wrapped, not copied
    check(shared, a)
    if a.size:
        assert np.shares_memory(np.asarray(shared), a)
        copied = xp.asarray(a, copy=True)
        assert not np.shares_memory(np.asarray(copied), a)
    if 0 not in a.shape:  # (a nested list of an empty array does not keep its shape)
        check(xp.asarray(a.tolist(), dtype=getattr(xp, dtype)), a)
    check(xp.from_dlpack(a), a)
    t = to_ricci(a)
    assert xp.asarray(t) is t
    assert xp.asarray(t, copy=False) is t
    c = xp.asarray(t, copy=True)
    check(c, a)
    if a.size:
        assert not c.shares_storage_with(t)
    with pytest.raises(ValueError):
        xp.asarray([1, 2], copy=False)
    assert xp.asarray(1.5).dtype == xp.float32 and xp.asarray(3).dtype == xp.int64 and xp.asarray(True).dtype == xp.bool


# ---- data type functions -----------------------------------------------------------------------------------

try:
    import array_api_strict as strict
except ImportError:
    strict = None
needs_strict = pytest.mark.skipif(strict is None, reason="array-api-strict is not installed")


@SETTINGS
@given(data=st.data())
def test_astype(data):
    src = data.draw(st.sampled_from(STANDARD_DTYPES))
    dst = data.draw(st.sampled_from(STANDARD_DTYPES))
    a = data.draw(arrays(src, lo=-100, hi=100) if src != "bool" and src not in FLOATS else arrays(src)
                  if src == "bool" else arrays(src, lo=-100, hi=100, specials=False))
    if dst in INTS and src in FLOATS:
        a = np.trunc(a)
        if dst == "uint8":
            a = np.abs(a)
        info = np.iinfo(NP[dst])
        a = np.clip(a, info.min, info.max).astype(a.dtype)
    if dst == "uint8" and src in SIGNED:
        a = np.abs(a).astype(a.dtype)
    got = xp.astype(to_ricci(a), getattr(xp, dst))
    check(got, a.astype(NP[dst]))
    t = to_ricci(a)
    assert xp.astype(t, t.dtype, copy=False) is t
    same = xp.astype(t, t.dtype)
    if a.size:
        assert not same.shares_storage_with(t)


@needs_strict
def test_can_cast_result_type_isdtype_against_array_api_strict():
    kinds = ["bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating", "numeric"]
    for d1 in STANDARD_DTYPES:
        s1, r1 = getattr(strict, d1), getattr(xp, d1)
        for kind in kinds:
            assert xp.isdtype(r1, kind) == strict.isdtype(s1, kind), (d1, kind)
        assert xp.isdtype(r1, ("bool", "real floating")) == strict.isdtype(s1, ("bool", "real floating"))
        for d2 in STANDARD_DTYPES:
            s2, r2 = getattr(strict, d2), getattr(xp, d2)
            assert xp.can_cast(r1, r2) == strict.can_cast(s1, s2), (d1, d2)
            assert xp.isdtype(r1, r2) == strict.isdtype(s1, s2)
            try:
                expected = strict.result_type(s1, s2)
            except TypeError:
                continue  # mixed kinds: implementation-defined (ricci follows PyTorch)
            assert str(xp.result_type(r1, r2)) == "ricci." + str(expected).split(".")[-1], (d1, d2)
    # arrays and Python scalars
    assert xp.result_type(xp.ones(2, dtype=xp.int8), 1) == xp.int8
    assert xp.result_type(xp.ones(2, dtype=xp.int8), 1.0) == xp.float32
    assert xp.result_type(xp.float32, xp.ones(1, dtype=xp.float64)) == xp.float64
    assert xp.can_cast(xp.ones(1, dtype=xp.int8), xp.int16)
    with pytest.raises(ValueError):
        xp.isdtype(xp.int8, "no such kind")


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_finfo(dtype):
    f, n = xp.finfo(getattr(xp, dtype)), np.finfo(NP[dtype])
    assert (f.bits, f.eps, f.max, f.min, f.smallest_normal) == (n.bits, float(n.eps), float(n.max), float(n.min),
                                                                 float(n.smallest_normal))
    assert f.dtype == getattr(xp, dtype)
    assert xp.finfo(xp.ones(1, dtype=getattr(xp, dtype))).bits == n.bits
    with pytest.raises(ValueError):
        xp.finfo(xp.int32)


@pytest.mark.parametrize("dtype", INTS)
def test_iinfo(dtype):
    i, n = xp.iinfo(getattr(xp, dtype)), np.iinfo(NP[dtype])
    assert (i.bits, i.max, i.min) == (n.bits, n.max, n.min) and i.dtype == getattr(xp, dtype)
    with pytest.raises(ValueError):
        xp.iinfo(xp.float32)


# ---- indexing and searching -------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_take(data):
    a = data.draw(arrays("float64", shape=data.draw(shapes(min_dims=1, min_side=1))))
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    idx = np.array(data.draw(st.lists(st.integers(0, a.shape[axis] - 1), max_size=6)), dtype=np.int64)
    check(xp.take(to_ricci(a, data.draw(layouts())), xp.asarray(idx), axis=axis), np.take(a, idx, axis=axis))
    flat = a.reshape(-1)
    check(xp.take(to_ricci(flat), xp.asarray(idx % flat.size)), np.take(flat, idx % flat.size))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@SETTINGS
@given(data=st.data())
def test_argmax_argmin(name, data):
    dtype = data.draw(st.sampled_from(["float32", "float64", "int32", "uint8"]))
    a = data.draw(arrays(dtype, shape=data.draw(shapes(min_dims=1, min_side=1)), lo=-3, hi=3)
                  if dtype not in FLOATS else arrays(dtype, shape=data.draw(shapes(min_dims=1, min_side=1))))
    axis = data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1)))
    keepdims = data.draw(st.booleans())
    got = rd(name)(to_ricci(a, data.draw(layouts())), axis=axis, keepdims=keepdims)
    check(got, np_fn(name)(a, axis=axis, keepdims=keepdims).astype(np.int64))


@SETTINGS
@given(data=st.data())
def test_nonzero(data):
    dtype = data.draw(st.sampled_from(["bool", "float32", "int64"]))
    a = data.draw(arrays(dtype, shape=data.draw(shapes(min_dims=1)), lo=-1, hi=1)
                  if dtype != "float32" else arrays(dtype, shape=data.draw(shapes(min_dims=1))))
    got = xp.nonzero(to_ricci(a, data.draw(layouts())))
    expected = np.nonzero(a)
    assert isinstance(got, tuple) and len(got) == len(expected)
    for g, e in zip(got, expected):
        check(g, e.astype(np.int64))
    with pytest.raises(ValueError):
        xp.nonzero(xp.asarray(1.0))


@SETTINGS
@given(data=st.data())
def test_searchsorted(data):
    dtype = data.draw(st.sampled_from(["float64", "int32"]))
    seq = np.sort(data.draw(arrays(dtype, shape=(data.draw(st.integers(0, 8)),), lo=-5, hi=5)
                            if dtype != "float64" else arrays(dtype, shape=(data.draw(st.integers(0, 8)),),
                                                              specials=False)))
    v = data.draw(arrays(dtype, lo=-6, hi=6) if dtype != "float64" else arrays(dtype, specials=False))
    side = data.draw(st.sampled_from(["left", "right"]))
    check(xp.searchsorted(xp.asarray(seq), to_ricci(v), side=side), np.searchsorted(seq, v, side=side).astype(np.int64))
    perm = np.random.default_rng(0).permutation(seq.size)
    unsorted = seq[np.argsort(perm)] if seq.size else seq
    sorter = np.argsort(unsorted, kind="stable")
    check(xp.searchsorted(xp.asarray(unsorted), to_ricci(v), side=side, sorter=xp.asarray(sorter)),
          np.searchsorted(unsorted, v, side=side, sorter=sorter).astype(np.int64))


@SETTINGS
@given(data=st.data())
def test_where(data):
    c, a = data.draw(two_arrays("bool", "float64"))
    b = data.draw(arrays("float64", shape=a.shape[1:] if a.ndim else ()))
    check(xp.where(to_ricci(c), to_ricci(a, data.draw(layouts())), to_ricci(b)), np.where(c, a, b))
    check(xp.where(to_ricci(c), to_ricci(a), 0.5), np.where(c, a, 0.5))


# ---- set functions ----------------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_unique_functions(data):
    dtype = data.draw(st.sampled_from(["float64", "int32", "bool", "uint8"]))
    a = data.draw(arrays(dtype, lo=-3, hi=3) if dtype != "float64" else
                  arrays(dtype, elements=None) if False else hnp.arrays(np.float64, data.draw(shapes()),
                                                                         elements=st.sampled_from([-1.5, 0.0, 2.0, 7.0])))
    t = to_ricci(a, data.draw(layouts()))
    values, index, inverse, counts = np.unique(a, return_index=True, return_inverse=True, return_counts=True)
    check(xp.unique_values(t), values)
    r = xp.unique_counts(t)
    check(r.values, values)
    check(r.counts, counts.astype(np.int64))
    r = xp.unique_inverse(t)
    check(r.values, values)
    check(r.inverse_indices, inverse.reshape(a.shape).astype(np.int64))
    r = xp.unique_all(t)
    check(r.values, values)
    check(r.indices, index.astype(np.int64))
    check(r.inverse_indices, inverse.reshape(a.shape).astype(np.int64))
    check(r.counts, counts.astype(np.int64))


def test_unique_nans_are_distinct():
    x = xp.asarray([math.nan, 1.0, math.nan, 1.0])
    r = xp.unique_counts(x)
    assert r.values.shape == (3,) and r.counts.tolist() == [2, 1, 1]


# ---- sorting ----------------------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_sort_and_argsort(data):
    dtype = data.draw(st.sampled_from(["float32", "float64", "int64", "int8"]))
    descending = data.draw(st.booleans())
    if dtype in FLOATS:
        a = data.draw(arrays(dtype, shape=data.draw(shapes(min_dims=1)), specials=not descending, lo=-3, hi=3))
        a = np.round(a)  # ties
    else:
        a = data.draw(arrays(dtype, shape=data.draw(shapes(min_dims=1)), lo=-3, hi=3))
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    t = to_ricci(a, data.draw(layouts()))
    if descending:
        expected_idx = np.argsort(-a.astype(np.float64), axis=axis, kind="stable")
        expected = np.take_along_axis(a, expected_idx, axis)
    else:
        expected_idx = np.argsort(a, axis=axis, kind="stable")
        expected = np.sort(a, axis=axis)
    check(xp.sort(t, axis=axis, descending=descending), expected)
    check(xp.argsort(t, axis=axis, descending=descending, stable=True), expected_idx.astype(np.int64))


# ---- statistical ------------------------------------------------------------------------------------------


@st.composite
def reduce_args(draw, dtype, min_side=0, **kw):
    a = draw(arrays(dtype, shape=draw(shapes(min_side=min_side)), **kw))
    if a.ndim == 0:
        axis = None
    else:
        axis = draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1),
                              st.lists(st.integers(0, a.ndim - 1), unique=True).map(tuple)))
    return a, axis, draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "min"])
@pytest.mark.parametrize("dtype", FLOATS + ["int32", "int64"])
@SETTINGS
@given(data=st.data())
def test_reductions(name, dtype, data):
    if name == "mean" and dtype not in FLOATS:
        return  # the standard: mean is for floating dtypes
    lohi = {"lo": -2, "hi": 2} if name == "prod" else {"lo": -100, "hi": 100}
    a, axis, keepdims = data.draw(reduce_args(dtype, min_side=1 if name in ("max", "min") else 0,
                                              specials=name != "prod", **lohi) if dtype in FLOATS else
                                  reduce_args(dtype, min_side=1 if name in ("max", "min") else 0, **lohi))
    with np.errstate(all="ignore"):
        expected = np_fn(name)(a, axis=axis, keepdims=keepdims)
    if name in ("sum", "prod") and dtype in INTS:
        expected = np.asarray(expected).astype(np.int64)
    expected = np.asarray(expected).astype(a.dtype) if dtype in FLOATS else np.asarray(expected)
    got = rd(name)(to_ricci(a, data.draw(layouts())), axis=axis, keepdims=keepdims)
    check(got, expected, dtype)


@pytest.mark.parametrize("name", ["var", "std"])
@SETTINGS
@given(data=st.data(), correction=st.sampled_from([0, 1, 0.5]))
def test_var_std(name, data, correction):
    a, axis, keepdims = data.draw(reduce_args("float64", min_side=2, specials=False))
    got = rd(name)(to_ricci(a, data.draw(layouts())), axis=axis, correction=correction, keepdims=keepdims)
    check(got, np_fn(name)(a, axis=axis, ddof=correction, keepdims=keepdims))


@SETTINGS
@given(data=st.data())
def test_cumulative_sum(data):
    dtype = data.draw(st.sampled_from(["float64", "int32", "bool"]))
    a = data.draw(arrays(dtype, shape=data.draw(shapes(min_dims=1)), lo=-50, hi=50) if dtype != "float64"
                  else arrays(dtype, shape=data.draw(shapes(min_dims=1)), specials=False))
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1)) if a.ndim > 1 else data.draw(st.sampled_from([None, 0, -1]))
    include = data.draw(st.booleans())
    ax = 0 if axis is None else axis
    expected = np.cumsum(a, axis=ax, dtype=np.float64 if dtype == "float64" else np.int64)
    if include:
        shape = list(expected.shape)
        shape[ax] = 1
        expected = np.concatenate([np.zeros(shape, expected.dtype), expected], axis=ax)
    check(xp.cumulative_sum(to_ricci(a, data.draw(layouts())), axis=axis, include_initial=include), expected)


@pytest.mark.parametrize("name", ["all", "any"])
@SETTINGS
@given(data=st.data())
def test_all_any(name, data):
    dtype = data.draw(st.sampled_from(["bool", "float32", "int64"]))
    a, axis, keepdims = data.draw(reduce_args(dtype, lo=-1, hi=1) if dtype != "float32" else reduce_args(dtype))
    check(rd(name)(to_ricci(a, data.draw(layouts())), axis=axis, keepdims=keepdims),
          np_fn(name)(a, axis=axis, keepdims=keepdims))


# ---- linear algebra ---------------------------------------------------------------------------------------


@st.composite
def matmul_shapes(draw):
    m, k, n = draw(st.integers(1, 5)), draw(st.integers(0, 5)), draw(st.integers(1, 5))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    kind = draw(st.sampled_from(["mm", "vec-mat", "mat-vec", "vec-vec"]))
    if kind == "vec-vec":
        return (k,), (k,)
    if kind == "vec-mat":
        return (k,), batch[1] + (k, n)
    if kind == "mat-vec":
        return batch[0] + (m, k), (k,)
    return batch[0] + (m, k), batch[1] + (k, n)


@SETTINGS
@given(data=st.data())
def test_matmul(data):
    dtype = data.draw(st.sampled_from(FLOATS + ["int64"]))
    s1, s2 = data.draw(matmul_shapes())
    el = float_elements(dtype, -3, 3, specials=False) if dtype in FLOATS else int_elements(dtype, -5, 5)
    a = data.draw(hnp.arrays(NP[dtype], s1, elements=el))
    b = data.draw(hnp.arrays(NP[dtype], s2, elements=el))
    check(xp.matmul(to_ricci(a, data.draw(layouts())), to_ricci(b, data.draw(layouts()))), np.matmul(a, b), dtype)


@SETTINGS
@given(data=st.data())
def test_matrix_transpose_tensordot_vecdot(data):
    a = data.draw(arrays("float64", shape=data.draw(shapes(min_dims=2, max_dims=4)), specials=False))
    check(xp.matrix_transpose(to_ricci(a)), np.swapaxes(a, -1, -2))
    with pytest.raises(ValueError):
        xp.matrix_transpose(xp.ones(3))
    # tensordot: contract the last k dims of a with the first k of b
    k = data.draw(st.integers(0, min(2, a.ndim)))
    tail = a.shape[a.ndim - k:]
    b = data.draw(arrays("float64", shape=tail + tuple(data.draw(st.lists(st.integers(1, 3), max_size=2))),
                         specials=False))
    check(xp.tensordot(to_ricci(a), to_ricci(b, data.draw(layouts())), axes=k), np.tensordot(a, b, axes=k))
    # explicit axes pairs
    if a.ndim >= 2:
        b2 = data.draw(arrays("float64", shape=(a.shape[0], 2, a.shape[1]), specials=False))
        check(xp.tensordot(to_ricci(a), to_ricci(b2), axes=((0, 1), (0, 2))), np.tensordot(a, b2, axes=((0, 1), (0, 2))))
    # vecdot over an axis, with broadcasting
    axis = data.draw(st.integers(-a.ndim, -1))
    c = data.draw(arrays("float64", shape=a.shape[1:], specials=False))
    if axis >= -(a.ndim - 1):
        check(xp.vecdot(to_ricci(a), to_ricci(c), axis=axis), np.sum(a * c, axis=axis))
    with pytest.raises(ValueError):
        xp.vecdot(xp.ones(3), xp.ones(4))


# ---- manipulation -----------------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_broadcast_arrays_and_broadcast_to(data):
    a, b = data.draw(two_arrays("float32"))
    got = xp.broadcast_arrays(to_ricci(a), to_ricci(b))
    for g, e in zip(got, np.broadcast_arrays(a, b)):
        check(g, e, "float32")
    target = np.broadcast_shapes(a.shape, b.shape)
    check(xp.broadcast_to(to_ricci(a), target), np.broadcast_to(a, target), "float32")


@SETTINGS
@given(data=st.data())
def test_concat_and_stack(data):
    shape = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = data.draw(st.integers(1, 3))
    parts = []
    for _ in range(n):
        s = list(shape)
        s[axis] = data.draw(st.integers(0, 3))
        parts.append(data.draw(arrays("int32", shape=tuple(s), lo=-9, hi=9)))
    check(xp.concat([to_ricci(p, data.draw(layouts())) for p in parts], axis=axis), np.concatenate(parts, axis=axis))
    check(xp.concat([to_ricci(p) for p in parts], axis=None), np.concatenate([p.reshape(-1) for p in parts]))
    same = [data.draw(arrays("float64", shape=shape)) for _ in range(n)]
    sax = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check(xp.stack([to_ricci(p) for p in same], axis=sax), np.stack(same, axis=sax))
    for g, e in zip(xp.unstack(to_ricci(same[0]), axis=axis), [np.take(same[0], i, axis=axis)
                                                               for i in range(same[0].shape[axis])]):
        check(g, e)
    assert len(xp.unstack(to_ricci(same[0]), axis=axis)) == same[0].shape[axis]


@SETTINGS
@given(data=st.data())
def test_shape_functions(data):
    a = data.draw(arrays("float64"))
    t = to_ricci(a, data.draw(layouts()))
    nd = a.ndim
    ax = data.draw(st.integers(-nd - 1, nd))
    check(xp.expand_dims(t, axis=ax), np.expand_dims(a, ax))
    with pytest.raises(IndexError):
        xp.expand_dims(t, axis=nd + 2)
    perm = data.draw(st.permutations(range(nd)))
    check(xp.permute_dims(t, perm), np.transpose(a, perm))
    flip_axis = data.draw(st.one_of(st.none(), st.lists(st.integers(0, max(nd - 1, 0)), unique=True).map(tuple)
                                    if nd else st.none()))
    check(xp.flip(t, axis=flip_axis), np.flip(a, flip_axis))
    if nd:
        src, dst = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
        check(xp.moveaxis(t, src, dst), np.moveaxis(a, src, dst))
        if nd >= 2:
            check(xp.moveaxis(t, (0, 1), (-1, 0)), np.moveaxis(a, (0, 1), (-1, 0)))
    new_shape = data.draw(st.permutations(a.shape)) if nd else ()
    check(xp.reshape(t, tuple(new_shape)), np.reshape(a, tuple(new_shape)))
    check(xp.reshape(t, (-1,)), a.reshape(-1))
    check(xp.reshape(t, tuple(new_shape), copy=True), np.reshape(a, tuple(new_shape)))
    ones_axes = tuple(i for i, s in enumerate(a.shape) if s == 1)
    if ones_axes:
        check(xp.squeeze(t, axis=ones_axes), np.squeeze(a, axis=ones_axes))
    not_one = [i for i, s in enumerate(a.shape) if s != 1]
    if not_one:
        with pytest.raises(ValueError):
            xp.squeeze(t, axis=not_one[0])


@SETTINGS
@given(data=st.data())
def test_repeat_roll_tile(data):
    a = data.draw(arrays("int64", lo=-9, hi=9))
    t = to_ricci(a, data.draw(layouts()))
    nd = a.ndim
    reps = data.draw(st.integers(0, 3))
    check(xp.repeat(t, reps), np.repeat(a, reps))
    if nd:
        axis = data.draw(st.integers(-nd, nd - 1))
        check(xp.repeat(t, reps, axis=axis), np.repeat(a, reps, axis=axis))
        per = np.array(data.draw(st.lists(st.integers(0, 2), min_size=a.shape[axis], max_size=a.shape[axis])),
                       dtype=np.int64)
        check(xp.repeat(t, xp.asarray(per), axis=axis), np.repeat(a, per, axis=axis))
    shift = data.draw(st.integers(-5, 5))
    check(xp.roll(t, shift), np.roll(a, shift))
    if nd:
        axes = tuple(data.draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=1)))
        shifts = tuple(data.draw(st.integers(-4, 4)) for _ in axes)
        check(xp.roll(t, shifts, axis=axes), np.roll(a, shifts, axis=axes))
        check(xp.roll(t, shift, axis=axes[0]), np.roll(a, shift, axis=axes[0]))
    tile_reps = tuple(data.draw(st.lists(st.integers(0, 3), max_size=4)))
    check(xp.tile(t, tile_reps), np.tile(a, tile_reps))
