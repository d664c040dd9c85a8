"""The Python array API standard (2023.12) over ricci tensors: `x.__array_namespace__()` is this
module, so array-API code (einops.array_api, scipy's and scikit-learn's array-API paths, your own
`xp = x.__array_namespace__()`) runs on ricci tensors unchanged.

Every function is a ricci op or a composition of ricci ops (so it is differentiable where the ops
are, and runs lazily under ricci.lazy()); none goes through numpy. What the standard has and ricci
does not (complex dtypes, unsigned integers wider than 8 bits, the `x.size` attribute, which is
PyTorch's `x.size()` method here) is listed in docs/python.md.
"""
import builtins as _builtins
import math as _math
from collections import namedtuple as _namedtuple

from . import _ricci
from ._ricci import Tensor as _Tensor

__array_api_version__ = "2023.12"

# ---- data types ----------------------------------------------------------------------------------

bool = _ricci.bool  # noqa: A001
int8, int16, int32, int64, uint8 = _ricci.int8, _ricci.int16, _ricci.int32, _ricci.int64, _ricci.uint8
float32, float64 = _ricci.float32, _ricci.float64
# Beyond the standard (as in PyTorch's namespace): half precision.
float16, bfloat16 = _ricci.float16, _ricci.bfloat16

_SIGNED = (int8, int16, int32, int64)
_UNSIGNED = (uint8,)
_INTEGRAL = _SIGNED + _UNSIGNED
_REAL_FLOATING = (float16, bfloat16, float32, float64)
_NUMERIC = _INTEGRAL + _REAL_FLOATING
_ALL = (bool,) + _NUMERIC

e = _math.e
inf = _math.inf
nan = _math.nan
pi = _math.pi
newaxis = None

_DEFAULT_FLOAT = float32
_DEFAULT_INT = int64


def _device(device):
    if device is None:
        return None
    return device if isinstance(device, _ricci.device) else _ricci.device(device)


def _is_array(x):
    return isinstance(x, _Tensor)


def _to_array(x, like=None):
    """A Python scalar next to an array takes the array's dtype kind (the standard's rule for
    scalars in binary operations)."""
    if _is_array(x):
        return x
    if like is not None and _is_array(like) and isinstance(x, (_builtins.bool, int, float)):
        dt = like.dtype
        if isinstance(x, _builtins.bool):
            pass  # True / False as the array's dtype
        elif isinstance(x, int):
            dt = _DEFAULT_INT if dt == bool else dt
        elif not dt.is_floating_point:  # a float with an integer or bool array (left to the library)
            dt = _DEFAULT_FLOAT
        return _ricci.full((), x, dtype=dt, device=like.device)
    return asarray(x)


def _pair(x1, x2):
    """Two operands of a binary function, promoted to their common dtype by the dtypes alone (ricci
    itself follows PyTorch, where a 0-d tensor does not promote a tensor with dims: int8[3] + int16[]
    is int8 there; the standard says int16)."""
    if not _is_array(x1):
        x1 = _to_array(x1, x2)
    if not _is_array(x2):
        x2 = _to_array(x2, x1)
    if x1.dtype != x2.dtype and (x1.ndim == 0) != (x2.ndim == 0):
        dt = _promote(x1.dtype, x2.dtype)
        x1, x2 = x1.to(dt), x2.to(dt)
    return x1, x2


def _axes(axis, ndim):
    """axis=None -> every dim; an int or a tuple of ints -> a tuple of non-negative dims."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if not -_builtins.max(ndim, 1) <= a < _builtins.max(ndim, 1):
            raise IndexError(f"axis {a} is out of bounds for an array of {ndim} dimensions")
        out.append(a % _builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(out)


# ---- data type functions -------------------------------------------------------------------------


def astype(x, dtype, /, *, copy=True, device=None):
    if device is not None:
        x = x.to(_device(device))
    if not copy and x.dtype == dtype:
        return x
    out = x.to(dtype)
    if copy and out.shares_storage_with(x):  # to() of the same dtype is the tensor itself
        out = out.clone()
    return out


# Promotion of two dtypes by the dtypes alone: ricci's (PyTorch's) table, which is the standard's
# lattice where the standard defines one (tests/python/test_array_api.py checks it against
# array-api-strict) and PyTorch's rules for mixed kinds.
def _promote(a, b):
    if a == b:
        return a
    z = _ricci.result_type(_ricci.empty(0, dtype=a), _ricci.empty(0, dtype=b))
    return z


def result_type(*arrays_and_dtypes):
    if not arrays_and_dtypes:
        raise ValueError("result_type() needs at least one array or dtype")
    dtypes, scalars = [], []
    for a in arrays_and_dtypes:
        if _is_array(a):
            dtypes.append(a.dtype)
        elif isinstance(a, _ricci.dtype):
            dtypes.append(a)
        elif isinstance(a, (_builtins.bool, int, float)):
            scalars.append(a)
        else:
            raise TypeError(f"result_type(): expected arrays, dtypes or Python scalars, got {type(a).__name__}")
    if not dtypes:
        raise ValueError("result_type(): at least one array or dtype is required")
    out = dtypes[0]
    for d in dtypes[1:]:
        out = _promote(out, d)
    for s in scalars:  # Python scalars are weak: they only move bool -> int -> float kinds
        if isinstance(s, float) and not out.is_floating_point:
            out = _DEFAULT_FLOAT
        elif isinstance(s, int) and not isinstance(s, _builtins.bool) and out == bool:
            out = _DEFAULT_INT
    return out


def can_cast(from_, to, /):
    f = from_.dtype if _is_array(from_) else from_
    if f == to:
        return True
    if f == bool:
        return True if to == bool else False
    if to == bool:
        return False
    if f.is_floating_point and not to.is_floating_point:
        return False
    if f in _UNSIGNED and to in _SIGNED:
        return _bits(to) > _bits(f)
    if f in _SIGNED and to in _UNSIGNED:
        return False
    if f.is_floating_point and to.is_floating_point:
        if {f, to} == {float16, bfloat16}:
            return False
        return _bits(to) >= _bits(f)
    if not f.is_floating_point and to.is_floating_point:
        return False  # the standard has no mixed-kind casting
    return _bits(to) >= _bits(f)


def _bits(dt):
    return _ricci.empty(0, dtype=dt).element_size() * 8


_finfo = _namedtuple("finfo_object", "bits eps max min smallest_normal dtype")
_iinfo = _namedtuple("iinfo_object", "bits max min dtype")
_FINFO = {
    float16: (16, 2.0**-10, 65504.0, 2.0**-14),
    bfloat16: (16, 2.0**-7, 3.3895313892515355e38, 1.1754943508222875e-38),
    float32: (32, 2.0**-23, 3.4028234663852886e38, 1.1754943508222875e-38),
    float64: (64, 2.0**-52, 1.7976931348623157e308, 2.2250738585072014e-308),
}


def finfo(type, /):  # noqa: A002
    dt = type.dtype if _is_array(type) else type
    if dt not in _FINFO:
        raise ValueError(f"finfo(): {dt} is not a floating dtype")
    bits, eps, mx, tiny = _FINFO[dt]
    return _finfo(bits, eps, mx, -mx, tiny, dt)


def iinfo(type, /):  # noqa: A002
    dt = type.dtype if _is_array(type) else type
    if dt not in _INTEGRAL:
        raise ValueError(f"iinfo(): {dt} is not an integer dtype")
    bits = _bits(dt)
    if dt in _UNSIGNED:
        return _iinfo(bits, 2**bits - 1, 0, dt)
    return _iinfo(bits, 2 ** (bits - 1) - 1, -(2 ** (bits - 1)), dt)


_KINDS = {
    "bool": (bool,),
    "signed integer": _SIGNED,
    "unsigned integer": _UNSIGNED,
    "integral": _INTEGRAL,
    "real floating": _REAL_FLOATING,
    "complex floating": (),
    "numeric": _NUMERIC,
}


def isdtype(dtype, kind):
    if isinstance(kind, tuple):
        return _builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, _ricci.dtype):
        return dtype == kind
    if kind not in _KINDS:
        raise ValueError(f"isdtype(): unknown kind {kind!r}; use one of {', '.join(_KINDS)} or a dtype")
    return dtype in _KINDS[kind]


# ---- creation functions ---------------------------------------------------------------------------


def _shape(shape):
    return (shape,) if isinstance(shape, int) else tuple(shape)


def asarray(obj, /, *, dtype=None, device=None, copy=None):
    device = _device(device)
    if _is_array(obj):
        out = obj
        if dtype is not None and out.dtype != dtype:
            if copy is False:
                raise ValueError("asarray(copy=False): a dtype change needs a copy")
            out = out.to(dtype)
            copy = False
        if device is not None and out.device != device:
            if copy is False:
                raise ValueError("asarray(copy=False): a device change needs a copy")
            out = out.to(device)
            copy = False
        return out.clone() if copy else out
    if copy is not True and (hasattr(obj, "__dlpack__") or _has_buffer(obj)):
        try:
            out = _ricci.from_numpy(obj) if not hasattr(obj, "__dlpack__") else from_dlpack(obj)
        except Exception:  # noqa: BLE001  (not wrappable: fall through to a copy, unless copy=False)
            if copy is False:
                raise ValueError("asarray(copy=False): the object cannot be wrapped without a copy") from None
        else:
            return asarray(out, dtype=dtype, device=device, copy=copy)
    if copy is False:
        raise ValueError("asarray(copy=False): a Python object has to be copied")
    if dtype is None and isinstance(obj, (_builtins.bool, int, float)):
        dtype = bool if isinstance(obj, _builtins.bool) else (_DEFAULT_INT if isinstance(obj, int) else _DEFAULT_FLOAT)
    return _ricci.tensor(obj, dtype=dtype, device=device)


def _has_buffer(obj):
    try:
        memoryview(obj)
        return True
    except TypeError:
        return False


def from_dlpack(x, /, *, device=None, copy=None):
    out = _ricci.from_dlpack(x)
    if device is not None and out.device != _device(device):
        out = out.to(_device(device))
    elif copy:
        out = out.clone()
    return out


def arange(start, /, stop=None, step=1, *, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = _DEFAULT_FLOAT if _builtins.any(isinstance(v, float) for v in (start, stop, step)) else _DEFAULT_INT
    if step == 0:
        raise ValueError("arange(): step must not be 0")
    if _math.ceil((stop - start) / step) <= 0:  # the standard: an empty range, not an error
        return _ricci.empty(0, dtype=dtype, device=_device(device))
    return _ricci.arange(start, stop, step, dtype=dtype, device=_device(device))


def empty(shape, *, dtype=None, device=None):
    return _ricci.empty(_shape(shape), dtype=dtype or _DEFAULT_FLOAT, device=_device(device))


def empty_like(x, /, *, dtype=None, device=None):
    return empty(x.shape, dtype=dtype or x.dtype, device=device or x.device)


def zeros(shape, *, dtype=None, device=None):
    return _ricci.zeros(_shape(shape), dtype=dtype or _DEFAULT_FLOAT, device=_device(device))


def zeros_like(x, /, *, dtype=None, device=None):
    return zeros(x.shape, dtype=dtype or x.dtype, device=device or x.device)


def ones(shape, *, dtype=None, device=None):
    return _ricci.ones(_shape(shape), dtype=dtype or _DEFAULT_FLOAT, device=_device(device))


def ones_like(x, /, *, dtype=None, device=None):
    return ones(x.shape, dtype=dtype or x.dtype, device=device or x.device)


def full(shape, fill_value, *, dtype=None, device=None):
    if dtype is None:
        dtype = (bool if isinstance(fill_value, _builtins.bool)
                 else _DEFAULT_INT if isinstance(fill_value, int) else _DEFAULT_FLOAT)
    return _ricci.full(_shape(shape), fill_value, dtype=dtype, device=_device(device))


def full_like(x, /, fill_value, *, dtype=None, device=None):
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=device or x.device)


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None):
    n_cols = n_rows if n_cols is None else n_cols
    k = _builtins.max(-n_rows - 1, _builtins.min(k, n_cols + 1))  # beyond the matrix: all zeros
    rows = _ricci.arange(n_rows, device=_device(device)).reshape(n_rows, 1)
    cols = _ricci.arange(n_cols, device=_device(device)).reshape(1, n_cols)
    return ((cols - rows) == k).to(dtype or _DEFAULT_FLOAT)


def linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True):
    dtype = dtype or _DEFAULT_FLOAT
    if not endpoint:
        if num == 0:
            return empty((0,), dtype=dtype, device=device)
        return _ricci.linspace(start, stop, num + 1, dtype=float64, device=_device(device))[:num].to(dtype)
    return _ricci.linspace(start, stop, num, dtype=float64, device=_device(device)).to(dtype)


def meshgrid(*arrays, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid(): indexing must be 'xy' or 'ij', got {indexing!r}")
    n = len(arrays)
    shape = [a.shape[0] for a in arrays]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, a in enumerate(arrays):
        view = [1] * n
        j = i
        if indexing == "xy" and n >= 2 and i < 2:
            j = 1 - i
        view[j] = a.shape[0]
        out.append(a.reshape(view).expand(shape))
    return out


def tril(x, /, *, k=0):
    return x.tril(k)


def triu(x, /, *, k=0):
    return x.triu(k)


# ---- elementwise functions ------------------------------------------------------------------------


def _unary(name, method=None):
    method = method or name

    def f(x, /):
        return getattr(x, method)()

    f.__name__ = f.__qualname__ = name
    return f


def _binary(name, method=None):
    method = method or name

    def f(x1, x2, /):
        x1, x2 = _pair(x1, x2)
        return getattr(x1, method)(x2)

    f.__name__ = f.__qualname__ = name
    return f


abs = _unary("abs")  # noqa: A001
acos, acosh, asin, asinh = _unary("acos"), _unary("acosh"), _unary("asin"), _unary("asinh")
atan, atanh = _unary("atan"), _unary("atanh")
ceil, cos, cosh, exp, expm1 = _unary("ceil"), _unary("cos"), _unary("cosh"), _unary("exp"), _unary("expm1")
floor, isfinite, isinf, isnan = _unary("floor"), _unary("isfinite"), _unary("isinf"), _unary("isnan")
log, log1p, log2, log10 = _unary("log"), _unary("log1p"), _unary("log2"), _unary("log10")
logical_not, negative = _unary("logical_not"), _unary("negative", "neg")
sin, sinh, sqrt, square = _unary("sin"), _unary("sinh"), _unary("sqrt"), _unary("square")
tan, tanh, trunc = _unary("tan"), _unary("tanh"), _unary("trunc")
bitwise_invert = _unary("bitwise_invert", "bitwise_not")

add, subtract, multiply = _binary("add"), _binary("subtract", "sub"), _binary("multiply", "mul")
atan2, hypot, logaddexp = _binary("atan2"), _binary("hypot"), _binary("logaddexp")
equal, not_equal = _binary("equal", "eq"), _binary("not_equal", "ne")
greater, greater_equal = _binary("greater", "gt"), _binary("greater_equal", "ge")
less, less_equal = _binary("less", "lt"), _binary("less_equal", "le")
logical_and, logical_or, logical_xor = _binary("logical_and"), _binary("logical_or"), _binary("logical_xor")
bitwise_and, bitwise_or, bitwise_xor = _binary("bitwise_and"), _binary("bitwise_or"), _binary("bitwise_xor")
maximum, minimum = _binary("maximum"), _binary("minimum")
remainder = _binary("remainder")


def divide(x1, x2, /):
    x1, x2 = _pair(x1, x2)
    return x1.div(x2)


def floor_divide(x1, x2, /):
    x1, x2 = _pair(x1, x2)
    return x1.div(x2, rounding_mode="floor")


def pow(x1, x2, /):  # noqa: A001
    x1, x2 = _pair(x1, x2)
    return x1.pow(x2)


def bitwise_left_shift(x1, x2, /):
    x1, x2 = _pair(x1, x2)
    return _ricci.bitwise_left_shift(x1, x2)


def bitwise_right_shift(x1, x2, /):
    x1, x2 = _pair(x1, x2)
    return _ricci.bitwise_right_shift(x1, x2)


def positive(x, /):
    return x.clone()


def round(x, /):  # noqa: A001  (half to even, as the standard says)
    return x.round()


def sign(x, /):
    out = x.sign()
    if x.dtype.is_floating_point:  # the standard: sign(NaN) is NaN (PyTorch's sign gives 0)
        out = _ricci.where(x.isnan(), x, out)
    return out


_SAME_SIZE_INT = {float16: int16, bfloat16: int16, float32: int32, float64: int64}


def signbit(x, /):
    """The sign bit itself (so -0.0 and -NaN count as negative): the bits viewed as an integer."""
    if x.dtype in _SAME_SIZE_INT:
        return x.contiguous().view(_SAME_SIZE_INT[x.dtype]) < 0
    return x < 0


def copysign(x1, x2, /):
    x1, x2 = _pair(x1, x2)
    if not x1.dtype.is_floating_point:
        x1 = x1.to(result_type(x1, x2, _DEFAULT_FLOAT))
    a = x1.abs()
    neg = signbit(x2)
    return _ricci.where(neg, -a, a).to(result_type(x1, x2))


def clip(x, /, min=None, max=None):  # noqa: A002
    out = x
    if min is not None:
        out = out.maximum(_to_array(min, x).to(x.dtype)) if _is_array(min) else out.clamp_min(min)
    if max is not None:
        out = out.minimum(_to_array(max, x).to(x.dtype)) if _is_array(max) else out.clamp_max(max)
    return out if out is not x else x.clone()


def conj(x, /):
    return x  # real dtypes only (ricci has no complex dtypes)


def real(x, /):
    return x


def imag(x, /):
    return _ricci.zeros_like(x)


# ---- indexing ---------------------------------------------------------------------------------------


def take(x, indices, /, *, axis=None):
    if axis is None:
        if x.ndim != 1:
            raise ValueError("take(): axis is required for arrays of more than one dimension")
        axis = 0
    if indices.dtype != int64:
        indices = indices.to(int64)
    n = x.shape[axis]
    indices = _ricci.where(indices < 0, indices + n, indices)  # negative indices count from the end
    return x.index_select(axis, indices)


# ---- linear algebra ---------------------------------------------------------------------------------


def _same_dtype(x1, x2):
    if x1.dtype != x2.dtype:  # ricci's matmul and tensordot take one dtype (PyTorch's rule)
        dt = _promote(x1.dtype, x2.dtype)
        x1, x2 = x1.to(dt), x2.to(dt)
    return x1, x2


def matmul(x1, x2, /):
    return _ricci.matmul(*_same_dtype(x1, x2))


def matrix_transpose(x, /):
    if x.ndim < 2:
        raise ValueError("matrix_transpose(): the array needs at least two dimensions")
    return x.mT


def tensordot(x1, x2, /, *, axes=2):
    x1, x2 = _same_dtype(x1, x2)
    if isinstance(axes, int):
        return _ricci.tensordot(x1, x2, axes)
    return _ricci.tensordot(x1, x2, (list(axes[0]), list(axes[1])))


def vecdot(x1, x2, /, *, axis=-1):
    if x1.shape[axis] != x2.shape[axis]:
        raise ValueError(f"vecdot(): the contracted axis has length {x1.shape[axis]} and {x2.shape[axis]}")
    x1, x2 = _pair(x1, x2)
    dt = result_type(x1, x2)
    return (x1 * x2).sum(dim=axis, dtype=dt)  # integers wrap in their own dtype, as the standard says


# ---- manipulation -----------------------------------------------------------------------------------


def broadcast_arrays(*arrays):
    shape = _ricci.broadcast_shapes(*[a.shape for a in arrays])
    return [a.expand(shape) for a in arrays]


def broadcast_to(x, /, shape):
    return x.expand(tuple(shape))


def concat(arrays, /, *, axis=0):
    arrays = list(arrays)
    if axis is None:
        return _ricci.cat([a.reshape(-1) for a in arrays], 0)
    return _ricci.cat(arrays, axis)


def expand_dims(x, /, *, axis=0):
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise IndexError(f"expand_dims(): axis {axis} is out of bounds for an array of {x.ndim} dimensions")
    return x.unsqueeze(axis)


def flip(x, /, *, axis=None):
    return x.flip(list(_axes(axis, x.ndim)))


def moveaxis(x, source, destination, /):
    src = _axes(source, x.ndim)
    dst = _axes(destination, x.ndim)
    if len(src) != len(dst):
        raise ValueError("moveaxis(): source and destination need the same number of axes")
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return x.permute(order)


def permute_dims(x, /, axes):
    return x.permute(list(axes))


def repeat(x, repeats, /, *, axis=None):
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    if _is_array(repeats) and repeats.dtype != int64:
        repeats = repeats.to(int64)
    return x.repeat_interleave(repeats, axis)


def reshape(x, /, shape, *, copy=None):
    if copy:
        return x.reshape(tuple(shape)).clone()
    if copy is False:
        return x.view(tuple(shape))
    return x.reshape(tuple(shape))


def roll(x, /, shift, *, axis=None):
    if axis is None:
        return x.reshape(-1).roll(shift, 0).reshape(x.shape)
    if isinstance(axis, int):
        return x.roll(shift, axis)
    shift = (shift,) * len(axis) if isinstance(shift, int) else shift
    return x.roll(list(shift), list(axis))


def squeeze(x, /, axis):
    axes = _axes(axis, x.ndim)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze(): axis {a} has length {x.shape[a]}, not 1")
    keep = [s for i, s in enumerate(x.shape) if i not in axes]
    return x.reshape(keep)


def stack(arrays, /, *, axis=0):
    return _ricci.stack(list(arrays), axis)


def tile(x, repetitions, /):
    return x.tile(list(repetitions))


def unstack(x, /, *, axis=0):
    return tuple(x.unbind(axis))


# ---- searching ----------------------------------------------------------------------------------------


def _keep(out, x, axis, keepdims):
    if keepdims and axis is None:
        return out.reshape([1] * x.ndim)
    return out


def argmax(x, /, *, axis=None, keepdims=False):
    return _keep(x.argmax(axis, keepdims), x, axis, keepdims)


def argmin(x, /, *, axis=None, keepdims=False):
    return _keep(x.argmin(axis, keepdims), x, axis, keepdims)


def nonzero(x, /):
    if x.ndim == 0:
        raise ValueError("nonzero(): zero-dimensional arrays are not allowed (the standard's rule)")
    return _ricci.nonzero(x, as_tuple=True)


def searchsorted(x1, x2, /, *, side="left", sorter=None):
    if sorter is not None:
        x1 = x1.take_along_dim(sorter, 0) if x1.ndim else x1
    return _ricci.searchsorted(x1, x2, side=side)


def where(condition, x1, x2, /):
    if not _is_array(x1) and not _is_array(x2):
        x1, x2 = asarray(x1), asarray(x2)
    x1, x2 = _pair(x1, x2)
    if x1.dtype != x2.dtype:
        dt = _promote(x1.dtype, x2.dtype)
        x1, x2 = x1.to(dt), x2.to(dt)
    return _ricci.where(condition, x1, x2)


# ---- set functions (sort, then compare neighbours) -----------------------------------------------------

UniqueAllResult = _namedtuple("UniqueAllResult", "values indices inverse_indices counts")
UniqueCountsResult = _namedtuple("UniqueCountsResult", "values counts")
UniqueInverseResult = _namedtuple("UniqueInverseResult", "values inverse_indices")


def _unique(x):
    """values, first index, inverse (flattened), counts of the distinct values of x. NaNs are distinct
    from each other (the standard's rule): each NaN is its own value."""
    flat = x.reshape(-1)
    n = flat.shape[0]
    if n == 0:
        e64 = _ricci.zeros(0, dtype=int64)
        return flat, e64, e64, e64
    values, order = flat.sort(stable=True)
    new = _ricci.ones(n, dtype=bool)
    if n > 1:
        same = values[1:] == values[:-1]  # NaN != NaN: every NaN starts a group
        new[1:] = same.logical_not()
    group = new.to(int64).cumsum(0) - 1  # group of each sorted position
    starts = _ricci.nonzero(new, as_tuple=True)[0]
    uvals = values[starts]
    first = order[starts]
    ends = _ricci.cat([starts[1:], _ricci.full((1,), n, dtype=int64)])
    counts = ends - starts
    inverse = _ricci.empty(n, dtype=int64)
    inverse[order] = group
    return uvals, first, inverse, counts


def unique_values(x, /):
    return _unique(x)[0]


def unique_counts(x, /):
    v, _, _, c = _unique(x)
    return UniqueCountsResult(v, c)


def unique_inverse(x, /):
    v, _, inv, _ = _unique(x)
    return UniqueInverseResult(v, inv.reshape(x.shape))


def unique_all(x, /):
    v, first, inv, c = _unique(x)
    return UniqueAllResult(v, first, inv.reshape(x.shape), c)


# ---- sorting ---------------------------------------------------------------------------------------------


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    return x.argsort(dim=axis, descending=descending, stable=True)


def sort(x, /, *, axis=-1, descending=False, stable=True):
    return x.sort(dim=axis, descending=descending, stable=True)[0]


# ---- statistical ------------------------------------------------------------------------------------------


def _reduce_dims(x, axis):
    return list(_axes(axis, x.ndim))


def _as(out, dtype):
    """ricci's integer sums and products accumulate into int64 (PyTorch); the standard wants the
    requested dtype (wrapping around in narrower integers)."""
    return out if out.dtype == dtype else out.to(dtype)


def _sum_dtype(x, dtype):
    if dtype is not None:
        return dtype
    if x.dtype == bool or x.dtype in _INTEGRAL:
        return _DEFAULT_INT  # (the standard wants uint64 for unsigned inputs; ricci has none)
    return x.dtype


def sum(x, /, *, axis=None, dtype=None, keepdims=False):  # noqa: A001
    dt = _sum_dtype(x, dtype)
    dims = _reduce_dims(x, axis)
    if not dims:
        return x.to(dt).clone()
    return _as(x.to(dt).sum(dim=dims, keepdim=keepdims), dt)


def prod(x, /, *, axis=None, dtype=None, keepdims=False):
    dt = _sum_dtype(x, dtype)
    out = x.to(dt)
    dims = sorted(_reduce_dims(x, axis), reverse=True)
    if not dims:
        return out.clone()
    for d in dims:
        out = out.prod(d, keepdims)
    return _as(out, dt)


def mean(x, /, *, axis=None, keepdims=False):
    dims = _reduce_dims(x, axis)
    if not dims:
        return x.clone()
    return x.mean(dim=dims, keepdim=keepdims)


def _correction_reduce(name, x, axis, correction, keepdims):
    dims = _reduce_dims(x, axis)
    if not dims:  # nothing reduced: each element is a sample of one
        v = (x - x) ** 2 / _builtins.max(1 - correction, 0)
        return v if name == "var" else v.sqrt()
    corr = int(correction) if float(correction).is_integer() else None
    if corr is None:  # a fractional correction: compose from the mean
        n = 1
        for d in dims:
            n *= x.shape[d]
        m = x.mean(dim=dims, keepdim=True)
        v = ((x - m) ** 2).sum(dim=dims, keepdim=keepdims) / _builtins.max(n - correction, 0)
        return v if name == "var" else v.sqrt()
    return getattr(x, name)(dim=dims, correction=corr, keepdim=keepdims)


def var(x, /, *, axis=None, correction=0.0, keepdims=False):
    return _correction_reduce("var", x, axis, correction, keepdims)


def std(x, /, *, axis=None, correction=0.0, keepdims=False):
    return _correction_reduce("std", x, axis, correction, keepdims)


def max(x, /, *, axis=None, keepdims=False):  # noqa: A001
    dims = _reduce_dims(x, axis)
    if not dims:
        return x.clone()
    return x.amax(dim=dims, keepdim=keepdims)


def min(x, /, *, axis=None, keepdims=False):  # noqa: A001
    dims = _reduce_dims(x, axis)
    if not dims:
        return x.clone()
    return x.amin(dim=dims, keepdim=keepdims)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    if axis is None:
        if x.ndim > 1:
            raise ValueError("cumulative_sum(): axis is required for arrays of more than one dimension")
        axis = 0
    dt = _sum_dtype(x, dtype)
    out = _as(x.to(dt).cumsum(axis), dt)
    if include_initial:
        shape = list(out.shape)
        shape[axis] = 1
        out = _ricci.cat([_ricci.zeros(shape, dtype=out.dtype), out], axis)
    return out


# ---- utility --------------------------------------------------------------------------------------------


def all(x, /, *, axis=None, keepdims=False):  # noqa: A001
    dims = _reduce_dims(x, axis)
    if not dims:
        return x.to(bool)
    return x.all(dim=dims, keepdim=keepdims)


def any(x, /, *, axis=None, keepdims=False):  # noqa: A001
    dims = _reduce_dims(x, axis)
    if not dims:
        return x.to(bool)
    return x.any(dim=dims, keepdim=keepdims)


# ---- inspection -------------------------------------------------------------------------------------------


class _Info:
    """__array_namespace_info__(): what this namespace supports."""

    def capabilities(self):
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self):
        return _ricci.device("cpu")

    def default_dtypes(self, *, device=None):
        return {"real floating": _DEFAULT_FLOAT, "complex floating": None, "integral": _DEFAULT_INT,
                "indexing": _DEFAULT_INT}

    def dtypes(self, *, device=None, kind=None):
        std_dtypes = {"bool": bool, "int8": int8, "int16": int16, "int32": int32, "int64": int64, "uint8": uint8,
                      "float32": float32, "float64": float64}
        if kind is None:
            return dict(std_dtypes)
        return {k: v for k, v in std_dtypes.items() if isdtype(v, kind)}

    def devices(self):
        out = [_ricci.device("cpu")]
        if _ricci.cuda.is_available():
            out += [_ricci.device(f"cuda:{i}") for i in range(_ricci.cuda.device_count())]
        return out


def __array_namespace_info__():
    return _Info()


__all__ = [n for n in dir() if not n.startswith("_") or n == "__array_namespace_info__"]
