"""Function transforms over Python callables (ricci/transforms.h): grad, value_and_grad, vjp,
jvp, vmap, jacrev, jacfwd, hessian. Arguments and results may be tensors or nested lists /
tuples / dicts of tensors; they are flattened into the C++ `Tensors` vector and rebuilt."""
import functools

from . import _ricci
from ._tree import flatten, num_leaves, unflatten


def _flat_call(f, args_def, out_box):
    """f as a function of the flat list of input leaves, returning the flat output leaves."""

    def flat(leaves):
        args = unflatten(args_def, leaves)
        out = f(*args)
        out_leaves, out_def = flatten(out)
        out_box[0] = out_def
        return out_leaves

    return flat


def _argnum_leaves(args_def, argnums):
    """Leaf indices of the positional arguments in argnums, and each argument's leaf range."""
    ranges, start = [], 0
    for sub in args_def[1]:
        n = num_leaves(sub)
        ranges.append((start, start + n))
        start += n
    picked = []
    for a in argnums:
        lo, hi = ranges[a]
        picked.extend(range(lo, hi))
    return picked, ranges


def value_and_grad(f, argnums=0):
    """value_and_grad(f)(*args) -> (f(*args), gradients of its first output w.r.t. args[argnums]).

    f's first output must be a one-element tensor (a loss); f may return (loss, aux...), as in MLX.
    The gradient has the structure of the argument (a tree of tensors for a tree argument); a
    tuple of them when argnums is a tuple."""
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    @functools.wraps(f)
    def wrapper(*args):
        leaves, args_def = flatten(tuple(args))
        picked, _ = _argnum_leaves(args_def, nums)
        out_box = [None]
        values, grads = _ricci._value_and_grad(_flat_call(f, args_def, out_box), picked, leaves)
        value = unflatten(out_box[0], values)
        # rebuild each argument's gradient tree
        it, per_arg = iter(grads), []
        for a in nums:
            sub = args_def[1][a]
            per_arg.append(unflatten(sub, [next(it) for _ in range(num_leaves(sub))]))
        return value, (per_arg[0] if single else tuple(per_arg))

    return wrapper


def grad(f, argnums=0):
    """grad(f)(*args): the gradient of f's (first, one-element) output w.r.t. args[argnums]."""
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapper(*args):
        return vg(*args)[1]

    return wrapper


def vjp(f, primals, cotangents):
    """(f(*primals), cotangents of the primals) given cotangents of f's outputs (MLX's vjp)."""
    leaves, args_def = flatten(tuple(primals))
    cot_leaves, _ = flatten(cotangents)
    out_box = [None]
    outs, cots = _ricci._vjp(_flat_call(f, args_def, out_box), leaves, cot_leaves)
    return unflatten(out_box[0], outs), unflatten(args_def, cots)


def jvp(f, primals, tangents):
    """(f(*primals), tangents of f's outputs) given tangents of the primals (forward mode)."""
    leaves, args_def = flatten(tuple(primals))
    tan_leaves, _ = flatten(tuple(tangents))
    out_box = [None]
    outs, tans = _ricci._jvp(_flat_call(f, args_def, out_box), leaves, tan_leaves)
    return unflatten(out_box[0], outs), unflatten(out_box[0], tans)


def _axes_per_leaf(axes, tree_def, what):
    """in_axes / out_axes as one entry (int or None) per leaf of tree_def (a tuple of subtrees)."""
    subs = tree_def[1]
    if axes is None or isinstance(axes, int):
        axes = (axes,) * len(subs)
    axes = tuple(axes)
    if len(axes) != len(subs):
        raise ValueError(f"vmap: {what} has {len(axes)} entries for {len(subs)} values")
    out = []
    for ax, sub in zip(axes, subs):
        out.extend([ax] * num_leaves(sub))
    return out


def _move_batch_axis(t, axis):
    """Moves dim 0 of t to `axis`."""
    nd = t.ndim
    axis = axis % nd
    if axis == 0:
        return t
    return t.permute(list(range(1, axis + 1)) + [0] + list(range(axis + 1, nd)))


def vmap(f, in_axes=0, out_axes=0):
    """vmap(f)(*args): f applied to each slice of its inputs along in_axes, stacked along out_axes.

    in_axes: an int (all arguments), None (not batched) or one entry per positional argument;
    out_axes: an int for all outputs or one entry per top-level output."""

    @functools.wraps(f)
    def wrapper(*args):
        leaves, args_def = flatten(tuple(args))
        flat_in = _axes_per_leaf(in_axes, args_def, "in_axes")
        out_box = [None]
        outs = _ricci._vmap(_flat_call(f, args_def, out_box), flat_in, [], leaves)
        out_def = out_box[0]
        if out_axes != 0:
            if isinstance(out_axes, int):
                flat_out = [out_axes] * len(outs)
            else:
                tup = out_def if out_def[0] in (tuple, list) else (tuple, [out_def])
                flat_out = _axes_per_leaf(out_axes, tup, "out_axes")
            outs = [_move_batch_axis(o, a) for o, a in zip(outs, flat_out)]
        return unflatten(out_def, outs)

    return wrapper


def _jac(kind, f, argnum):
    impl = {"rev": _ricci._jacrev, "fwd": _ricci._jacfwd, "hess": _ricci._hessian}[kind]

    @functools.wraps(f)
    def wrapper(*args):
        for a in args:
            if not isinstance(a, _ricci.Tensor):
                raise TypeError("jacrev/jacfwd/hessian: the arguments must be tensors")
        leaves, args_def = flatten(tuple(args))
        out_box = [None]
        outs = impl(_flat_call(f, args_def, out_box), argnum, leaves)
        return outs[0]

    return wrapper


def jacrev(f, argnum=0):
    """The Jacobian of f's first output w.r.t. args[argnum] (reverse mode): out.shape + in.shape."""
    return _jac("rev", f, argnum)


def jacfwd(f, argnum=0):
    """The Jacobian of f's first output w.r.t. args[argnum] (forward mode)."""
    return _jac("fwd", f, argnum)


def hessian(f, argnum=0):
    """The Hessian of f's (one-element) output w.r.t. args[argnum]."""
    return _jac("hess", f, argnum)
