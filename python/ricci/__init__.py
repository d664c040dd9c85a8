"""ricci: tensors, eager autograd (PyTorch semantics), lazy evaluation and function transforms
(MLX style), with a C++20 core.

    import ricci
    a = ricci.tensor(2.0, requires_grad=True)
    b = ricci.tensor(3.0, requires_grad=True)
    L = ((a * b) * (a + b)) ** 2
    L.backward()
    a.grad, b.grad          # tensor(1260.), tensor(960.)
"""
import contextlib as _contextlib
import builtins as _builtins
import functools as _functools

from . import _ricci
from ._ricci import *  # noqa: F401,F403  (Tensor, dtypes, factories, ops, errors)
from ._ricci import (Error, ShapeError, DTypeError, DeviceError, IndexError, ValueError,  # noqa: F401,A004
                     AutogradError, IOError, NotImplementedError, Tensor, Node, PendingStats, dtype, device,
                     autograd, cuda, optim, stop_gradient)
import importlib as _importlib
nn = _importlib.import_module(".nn", __name__)  # the Python ricci.nn, not the C++ submodule of the same name
from ._tree import flatten as tree_flatten, unflatten as tree_unflatten  # noqa: F401
from .transforms import grad, value_and_grad, vjp, jvp, vmap, jacrev, jacfwd, hessian  # noqa: F401

__version__ = "0.1.0"

# ---- the array API standard and einops -----------------------------------------------------------
from . import array_api  # noqa: E402  (the namespace Tensor.__array_namespace__ returns)
from . import _einops_backend  # noqa: E402

_einops_backend.install()  # einops.rearrange(ricci_tensor, ...) works once einops is imported


def _array_namespace(self, /, *, api_version=None):
    if api_version not in (None, "2021.12", "2022.12", "2023.12"):
        raise ValueError(f"__array_namespace__: unsupported api_version {api_version!r}; ricci implements 2023.12")
    return array_api


def _to_device(self, device, /, *, stream=None):
    return self.to(device)


def _complex(self):
    return complex(self.item())


# Methods of Tensor written in Python; named as such so that stubgen puts them in the class's stub.
for _name, _fn in (("__array_namespace__", _array_namespace), ("to_device", _to_device), ("__complex__", _complex)):
    _fn.__name__, _fn.__qualname__, _fn.__module__ = _name, "Tensor." + _name, Tensor.__module__
    setattr(Tensor, _name, _fn)

# ---- grad modes: context managers and decorators -------------------------------------------------


class _GradMode(_contextlib.ContextDecorator):
    _enabled = False

    def __enter__(self):
        self._prev = _ricci.is_grad_enabled()
        _ricci.set_grad_enabled(self._enabled)
        return self

    def __exit__(self, *exc):
        _ricci.set_grad_enabled(self._prev)
        return False


class no_grad(_GradMode):
    """Ops run without recording gradients (`with ricci.no_grad():` or `@ricci.no_grad()`)."""
    _enabled = False


class enable_grad(_GradMode):
    """Gradients are recorded again inside a no_grad block."""
    _enabled = True


class set_grad_enabled(_GradMode):
    """set_grad_enabled(mode): as a function call it switches the mode; as a context it restores it."""

    def __init__(self, mode):
        self._prev = _ricci.is_grad_enabled()
        self._enabled = _builtins.bool(mode)
        _ricci.set_grad_enabled(self._enabled)

    def __enter__(self):
        return self


class inference_mode(_contextlib.ContextDecorator):
    """No gradients and no version tracking: the cheapest way to run a model (ricci::InferenceMode)."""

    def __init__(self, mode=True):
        self._mode = mode

    def __enter__(self):
        self._guard = _ricci._InferenceMode(self._mode)
        self._guard.__enter__()
        return self

    def __exit__(self, *exc):
        self._guard.__exit__(*exc)
        return False


# ---- lazy evaluation --------------------------------------------------------------------------------


class lazy(_contextlib.ContextDecorator):
    """Inside, ops record a graph and compute nothing until ricci.eval (or a value is read)."""

    def __init__(self, enabled=True):
        self._enabled = enabled

    def __enter__(self):
        self._guard = _ricci._LazyGuard(self._enabled)
        self._guard.__enter__()
        return self

    def __exit__(self, *exc):
        self._guard.__exit__(*exc)
        return False


def eval(*trees):  # noqa: A001  (mx.eval)
    """Evaluates every pending tensor in the arguments (tensors, or lists / tuples / dicts of them)."""
    leaves, _ = tree_flatten(trees)
    _ricci._eval(leaves)


def pending_stats(*trees):
    """What evaluating the tensors would do now: PendingStats(nodes, bytes)."""
    leaves, _ = tree_flatten(trees)
    return _ricci._pending_stats(leaves)


def pending_dot(*trees):
    """The pending graph in Graphviz DOT."""
    leaves, _ = tree_flatten(trees)
    return _ricci._pending_dot(leaves)


# ---- free functions that are methods in C++ -------------------------------------------------------


def _method_as_function(name):
    def f(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    f.__name__ = name
    f.__qualname__ = name
    f.__doc__ = f"ricci.{name}(input, ...) is input.{name}(...)"
    return f


_METHODS = """abs neg negative sign exp exp2 expm1 log log2 log10 log1p sqrt rsqrt square reciprocal sin cos tan tanh
sigmoid relu erf floor ceil round trunc logical_not isnan isinf isfinite silu bitwise_not sinh cosh asinh acosh atanh
asin acos atan gelu softplus nan_to_num add sub mul div fmod remainder atan2 maximum minimum logaddexp hypot
logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor lerp addcmul addcdiv clip clamp_min
clamp_max masked_fill eq ne lt le gt ge equal allclose isclose sum mean prod amax amin max min argmax argmin var std
norm logsumexp all any cumsum cumprod logcumsumexp cummax cummin median kthvalue count_nonzero reshape transpose
swapaxes t permute squeeze unsqueeze flatten unflatten narrow select diagonal as_strided repeat tile flip roll tril
triu diag diag_embed diff repeat_interleave split chunk unbind index_select gather take_along_dim scatter scatter_add
sort argsort topk softmax log_softmax mm bmm mv dot outer trace baddbmm kron cross detach clone numel
broadcast_to""".split()
for _name in _METHODS:
    if _name not in globals() or _name in ("abs", "round", "all", "any", "max", "min", "sum", "pow"):
        globals()[_name] = _method_as_function(_name)
_einops_repeat = _ricci.repeat


def repeat(input, *args, **kwargs):  # noqa: A001
    """ricci.repeat(x, "h w -> h w c", c=3) is einops' repeat; ricci.repeat(x, 2, 3) is x.repeat(2, 3)
    (PyTorch's tiling Tensor.repeat)."""
    if args and isinstance(args[0], str):
        return _einops_repeat(input, *args, **kwargs)
    if isinstance(input, (list, tuple)) and args and isinstance(args[0], str):
        return _einops_repeat(input, *args, **kwargs)
    return input.repeat(*args, **kwargs)


globals()["pow"] = lambda input, exponent: (_ricci.pow(input, exponent) if not isinstance(input, Tensor)
                                            else input.pow(exponent))
subtract, multiply, divide, true_divide = sub, mul, div, div  # noqa: F821
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne  # noqa: F821
absolute, arccos, arcsin, arctan, arctan2 = abs, acos, asin, atan, atan2  # noqa: F821


def movedim(input, source, destination):
    nd = input.ndim
    source, destination = source % nd, destination % nd
    order = [d for d in range(nd) if d != source]
    order.insert(destination, source)
    return input.permute(order)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def compile(f=None, *, fuse=True, shapeless=False, generate_code=None, stable_rewrites=True):  # noqa: A001
    """ricci.compile (C++ ricci::compile, docs/compile.md): traces f once per input signature into a
    program of primitives, simplifies and fuses it, and replays it. Random draws are part of the
    program (new numbers on every call), and so is a gradient taken inside (compile(grad(f)): the
    backward pass is traced too); functions that read a value of their inputs run uncompiled.
    Fused kernels run as generated machine code, built by the system's C++ compiler at their first
    run and cached on disk (generate_code=False, or RICCI_COMPILE_CODEGEN=0, keeps the
    interpreter; the values are the same). stable_rewrites=False keeps f's own ops where compile
    would replace a cancelling expression by an equal one that does not cancel (1 + tanh(u) as
    2 * sigmoid(2 * u)) or merge a power-of-two scaling with the constants around it, so that
    fused float32 results equal eager ones bit for bit. Usable as a
    decorator. The compiled function's
    stats() says what compiling its most recent call did (C++ compile_stats: traced_ops, ops,
    fused_groups, traceable, untraceable_reason, ...)."""
    if f is None:
        return lambda g: compile(g, fuse=fuse, shapeless=shapeless, generate_code=generate_code,
                                 stable_rewrites=stable_rewrites)
    from ._tree import flatten, unflatten
    from .transforms import _flat_call
    import functools

    programs = {}  # argument structure -> (compiled flat function, its stats, output structure box)
    last = [None]  # the stats of the most recent call's structure

    @functools.wraps(f)
    def wrapper(*args):
        leaves, args_def = flatten(tuple(args))
        key = repr(args_def)
        if key not in programs:
            out_box = [None]
            flag = -1 if generate_code is None else (1 if generate_code else 0)
            fn, stats = _ricci._compile(_flat_call(f, args_def, out_box), fuse, shapeless, flag, stable_rewrites)
            programs[key] = (fn, stats, out_box)
        fn, last[0], out_box = programs[key]
        outs = fn(leaves)
        return unflatten(out_box[0], outs)

    def stats():
        if last[0] is None:
            raise ValueError("[compile] stats(): call the compiled function first")
        return last[0]()

    wrapper.stats = stats
    return wrapper
