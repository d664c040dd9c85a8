"""The reference side of every op name the C++ harness knows (tests/test_differential.cpp, OPS).

Each entry maps an op name to fn(inputs, attrs) -> list of output tensors, where `inputs` are the
tensors after their views (None where the manifest lists null: an optional tensor left out) and
`attrs` the case's scalar arguments. The C++ table must use the same names and read the same attrs;
a name only one side knows makes the C++ test fail.
"""
import torch
import torch.nn.functional as F

REF = {}


def op(*names):
    def register(fn):
        for n in names:
            REF[n] = fn
        return fn
    return register


def _given(a, *names):
    """The attrs among `names` that the case sets, as keyword arguments. An attr the case leaves out
    is left out of the PyTorch call too, so the case checks ricci's default against PyTorch's (the
    C++ side then calls ricci without it as well; see cases_defaults.py)."""
    return {n: a[n] for n in names if n in a}


# ---- unary --------------------------------------------------------------------------------------
_UNARY = ["neg", "abs", "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
          "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "erf",
          "floor", "ceil", "round", "trunc", "logical_not", "isnan", "isinf", "isfinite", "bitwise_not"]
for _n in _UNARY:
    REF[_n] = (lambda f: lambda x, a: [f(x[0])])(getattr(torch, _n))


@op("gelu")
def _gelu(x, a):
    return [F.gelu(x[0], **_given(a, "approximate"))]


@op("silu")
def _silu(x, a):
    return [F.silu(x[0])]


@op("softplus")
def _softplus(x, a):
    return [F.softplus(x[0], **_given(a, "beta", "threshold"))]


@op("clamp")
def _clamp(x, a):
    # Scalar bounds from attrs, or tensor bounds as inputs 1 and 2 (either may be null).
    if len(x) == 1:
        return [torch.clamp(x[0], a.get("min"), a.get("max"))]
    return [torch.clamp(x[0], x[1], x[2])]


# ---- binary: a second tensor, or attrs["scalar"] (a Python int/float/bool: a C++ Scalar) ---------
def _binary(f):
    def run(x, a):
        if "scalar" in a:
            return [f(x[0], a["scalar"])]
        return [f(x[0], x[1])]
    return run


for _n in ["mul", "maximum", "minimum", "fmod", "remainder", "atan2", "eq", "ne", "lt", "le", "gt",
           "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
           "bitwise_xor"]:
    REF[_n] = _binary(getattr(torch, _n))


REF["add"] = lambda x, a: [torch.add(x[0], a["scalar"] if "scalar" in a else x[1], alpha=a.get("alpha", 1))]
REF["sub"] = lambda x, a: [torch.sub(x[0], a["scalar"] if "scalar" in a else x[1], alpha=a.get("alpha", 1))]


@op("div")
def _div(x, a):
    other = a["scalar"] if "scalar" in a else x[1]
    return [torch.div(x[0], other, rounding_mode=a.get("rounding_mode"))]


@op("pow")
def _pow(x, a):
    if "scalar_base" in a:  # pow(Scalar, Tensor)
        return [torch.pow(a["scalar_base"], x[0])]
    return [torch.pow(x[0], a["scalar"] if "scalar" in a else x[1])]


# ---- ternary --------------------------------------------------------------------------------------
@op("where")
def _where(x, a):
    if "scalar_other" in a:  # where(cond, Tensor, Scalar)
        return [torch.where(x[0], x[1], a["scalar_other"])]
    return [torch.where(x[0], x[1], x[2])]


@op("lerp")
def _lerp(x, a):
    return [torch.lerp(x[0], x[1], a["weight"] if "weight" in a else x[2])]


@op("addcmul")
def _addcmul(x, a):
    return [torch.addcmul(x[0], x[1], x[2], value=a.get("value", 1))]


@op("addcdiv")
def _addcdiv(x, a):
    return [torch.addcdiv(x[0], x[1], x[2], value=a.get("value", 1))]


@op("masked_fill")
def _masked_fill(x, a):
    return [x[0].masked_fill(x[1], a["value"])]


# ---- reductions: attrs "dims" (absent: all dims), "keepdim", "dtype" ----------------------------------
def _dtype(a):
    return getattr(torch, a["dtype"]) if "dtype" in a else None


def _dims_kw(a):
    return {"dim": a["dims"], "keepdim": a.get("keepdim", False)} if "dims" in a else {}


@op("sum")
def _sum(x, a):
    return [torch.sum(x[0], **_dims_kw(a), dtype=_dtype(a))]


@op("mean")
def _mean(x, a):
    return [torch.mean(x[0], **_dims_kw(a))]


@op("prod")
def _prod(x, a):
    if "dim" in a:
        return [torch.prod(x[0], a["dim"], keepdim=a.get("keepdim", False), dtype=_dtype(a))]
    return [torch.prod(x[0], dtype=_dtype(a))]


def _values_indices(f):
    def run(x, a):
        if "dim" in a:  # (values, indices)
            v, i = f(x[0], a["dim"], keepdim=a.get("keepdim", False))
            return [v, i]
        return [f(x[0])]
    return run


REF["max"] = _values_indices(torch.max)
REF["min"] = _values_indices(torch.min)
REF["amax"] = lambda x, a: [torch.amax(x[0], dim=a.get("dims", []), keepdim=a.get("keepdim", False))]
REF["amin"] = lambda x, a: [torch.amin(x[0], dim=a.get("dims", []), keepdim=a.get("keepdim", False))]
REF["argmax"] = lambda x, a: [torch.argmax(x[0], dim=a.get("dim"), keepdim=a.get("keepdim", False))]
REF["argmin"] = lambda x, a: [torch.argmin(x[0], dim=a.get("dim"), keepdim=a.get("keepdim", False))]
REF["var"] = lambda x, a: [torch.var(x[0], dim=a.get("dims"), keepdim=a.get("keepdim", False),
                                     **_given(a, "correction"))]
REF["std"] = lambda x, a: [torch.std(x[0], dim=a.get("dims"), keepdim=a.get("keepdim", False),
                                     **_given(a, "correction"))]
# Without p: Tensor.norm()'s default (2, "fro" for vectors), which ricci's norm(x) mirrors.
REF["norm"] = lambda x, a: [torch.linalg.vector_norm(x[0], ord=a.get("p", 2), dim=a.get("dims"), keepdim=a.get("keepdim", False))
                            if a else x[0].norm()]
REF["logsumexp"] = lambda x, a: [torch.logsumexp(x[0], dim=a["dims"], keepdim=a.get("keepdim", False))]
REF["all"] = lambda x, a: [torch.all(x[0], **_dims_kw(a))]
REF["any"] = lambda x, a: [torch.any(x[0], **_dims_kw(a))]
REF["cumsum"] = lambda x, a: [torch.cumsum(x[0], a["dim"], dtype=_dtype(a))]
REF["cumprod"] = lambda x, a: [torch.cumprod(x[0], a["dim"], dtype=_dtype(a))]

# ---- linear algebra ---------------------------------------------------------------------------------
REF["matmul"] = lambda x, a: [torch.matmul(x[0], x[1])]
REF["mm"] = lambda x, a: [torch.mm(x[0], x[1])]
REF["bmm"] = lambda x, a: [torch.bmm(x[0], x[1])]
REF["mv"] = lambda x, a: [torch.mv(x[0], x[1])]
REF["dot"] = lambda x, a: [torch.dot(x[0], x[1])]
REF["outer"] = lambda x, a: [torch.outer(x[0], x[1])]
REF["addmm"] = lambda x, a: [torch.addmm(x[0], x[1], x[2], beta=a.get("beta", 1), alpha=a.get("alpha", 1))]
REF["einsum"] = lambda x, a: [torch.einsum(a["equation"], *x)]

# ---- shape and indexing -----------------------------------------------------------------------------
REF["cat"] = lambda x, a: [torch.cat(x, dim=a.get("dim", 0))]
REF["stack"] = lambda x, a: [torch.stack(x, dim=a.get("dim", 0))]
REF["split"] = lambda x, a: list(torch.split(x[0], a["split_size"], dim=a.get("dim", 0)))
REF["chunk"] = lambda x, a: list(torch.chunk(x[0], a["chunks"], dim=a.get("dim", 0)))
REF["index_select"] = lambda x, a: [torch.index_select(x[0], a["dim"], x[1])]
REF["gather"] = lambda x, a: [torch.gather(x[0], a["dim"], x[1])]
REF["scatter"] = lambda x, a: [torch.scatter(x[0], a["dim"], x[1], a["value"] if "value" in a else x[2])]
REF["scatter_add"] = lambda x, a: [torch.scatter_add(x[0], a["dim"], x[1], x[2])]
REF["index_add"] = lambda x, a: [torch.index_add(x[0], a["dim"], x[1], x[2], alpha=a.get("alpha", 1))]
REF["tril"] = lambda x, a: [torch.tril(x[0], a.get("diagonal", 0))]
REF["triu"] = lambda x, a: [torch.triu(x[0], a.get("diagonal", 0))]
REF["repeat"] = lambda x, a: [x[0].repeat(*a["repeats"])]
REF["tile"] = lambda x, a: [torch.tile(x[0], a["reps"])]
REF["flip"] = lambda x, a: [torch.flip(x[0], a["dims"])]
REF["roll"] = lambda x, a: [torch.roll(x[0], a["shifts"], a["dims"]) if a.get("dims") else
                            torch.roll(x[0], a["shifts"])]
REF["one_hot"] = lambda x, a: [F.one_hot(x[0], a.get("num_classes", -1))]
REF["take_along_dim"] = lambda x, a: [torch.take_along_dim(x[0], x[1], dim=a.get("dim"))]


@op("sort")
def _sort(x, a):
    v, i = torch.sort(x[0], dim=a.get("dim", -1), descending=a.get("descending", False),
                      stable=a.get("stable", False))
    return [v, i]


@op("argsort")
def _argsort(x, a):
    return [torch.argsort(x[0], dim=a.get("dim", -1), descending=a.get("descending", False),
                          stable=a.get("stable", False))]


@op("topk")
def _topk(x, a):
    v, i = torch.topk(x[0], a["k"], dim=a.get("dim", -1), largest=a.get("largest", True),
                      sorted=a.get("sorted", True))
    return [v, i]


def index_entries(x, entries):
    """attrs["index"] -> a Python index tuple. Entries: an int; [start, stop, step] (a slice, null
    for open ends); null (a new axis); "..." ; {"tensor": k} (inputs[k]); true/false."""
    out = []
    for e in entries:
        if e is None:
            out.append(None)
        elif e == "...":
            out.append(Ellipsis)
        elif isinstance(e, bool):
            out.append(e)
        elif isinstance(e, int):
            out.append(e)
        elif isinstance(e, list):
            out.append(slice(*e))
        else:
            out.append(x[e["tensor"]])
    return tuple(out)


REF["index"] = lambda x, a: [x[0][index_entries(x, a["index"])]]


@op("index_put")
def _index_put(x, a):
    # inputs: self, values, then the index tensors named by attrs["index"].
    idx = index_entries(x, a["index"])
    if all(isinstance(e, torch.Tensor) for e in idx):
        return [x[0].index_put(idx, x[1], accumulate=a.get("accumulate", False))]
    # Other entries (ints, slices, bools): Tensor.index_put takes tensors only, so write through
    # setitem on a copy (accumulate: += ; these entries never repeat a position).
    y = x[0].clone()
    if a.get("accumulate", False):
        y[idx] += x[1]
    else:
        y[idx] = x[1]
    return [y]


# ---- nn functional ---------------------------------------------------------------------------------
REF["softmax"] = lambda x, a: [F.softmax(x[0], a["dim"], dtype=_dtype(a))]
REF["log_softmax"] = lambda x, a: [F.log_softmax(x[0], a["dim"], dtype=_dtype(a))]
REF["layer_norm"] = lambda x, a: [F.layer_norm(x[0], a["normalized_shape"], x[1], x[2], **_given(a, "eps"))]
REF["rms_norm"] = lambda x, a: [F.rms_norm(x[0], a["normalized_shape"], x[1], **_given(a, "eps"))]
REF["embedding"] = lambda x, a: [F.embedding(x[0], x[1], padding_idx=a.get("padding_idx"))]
REF["linear"] = lambda x, a: [F.linear(x[0], x[1], x[2])]
REF["cross_entropy"] = lambda x, a: [F.cross_entropy(x[0], x[1], weight=x[2],
                                                     **_given(a, "ignore_index", "reduction", "label_smoothing"))]
REF["nll_loss"] = lambda x, a: [F.nll_loss(x[0], x[1], weight=x[2], **_given(a, "ignore_index", "reduction"))]
REF["mse_loss"] = lambda x, a: [F.mse_loss(x[0], x[1], **_given(a, "reduction"))]
REF["scaled_dot_product_attention"] = lambda x, a: [F.scaled_dot_product_attention(
    x[0], x[1], x[2], attn_mask=x[3], **_given(a, "is_causal", "scale"))]


# ---- the math and nn ops of cases_missing_math.py ------------------------------------------------------
for _n in ["sinh", "cosh", "asinh", "acosh", "atanh", "asin", "acos", "atan"]:
    REF[_n] = (lambda f: lambda x, a: [f(x[0])])(getattr(torch, _n))
REF["logaddexp"] = lambda x, a: [torch.logaddexp(x[0], x[1])]
REF["hypot"] = lambda x, a: [torch.hypot(x[0], x[1])]
REF["nan_to_num"] = lambda x, a: [torch.nan_to_num(x[0], nan=a.get("nan", 0.0), posinf=a.get("posinf"),
                                                   neginf=a.get("neginf"))]
REF["elu"] = lambda x, a: [F.elu(x[0], alpha=a.get("alpha", 1.0))]
REF["selu"] = lambda x, a: [F.selu(x[0])]
REF["celu"] = lambda x, a: [F.celu(x[0], alpha=a.get("alpha", 1.0))]
REF["leaky_relu"] = lambda x, a: [F.leaky_relu(x[0], negative_slope=a.get("negative_slope", 0.01))]
REF["logsigmoid"] = lambda x, a: [F.logsigmoid(x[0])]
REF["mish"] = lambda x, a: [F.mish(x[0])]
REF["softmin"] = lambda x, a: [F.softmin(x[0], a["dim"], dtype=_dtype(a))]
REF["group_norm"] = lambda x, a: [F.group_norm(x[0], a["num_groups"], x[1], x[2], eps=a.get("eps", 1e-5))]
REF["binary_cross_entropy"] = lambda x, a: [F.binary_cross_entropy(x[0], x[1], weight=x[2],
                                                                   reduction=a.get("reduction", "mean"))]
REF["binary_cross_entropy_with_logits"] = lambda x, a: [F.binary_cross_entropy_with_logits(
    x[0], x[1], weight=x[2], reduction=a.get("reduction", "mean"), pos_weight=x[3])]
REF["kl_div"] = lambda x, a: [F.kl_div(x[0], x[1], reduction=a.get("reduction", "mean"),
                                       log_target=a.get("log_target", False))]
REF["smooth_l1_loss"] = lambda x, a: [F.smooth_l1_loss(x[0], x[1], reduction=a.get("reduction", "mean"),
                                                       beta=a.get("beta", 1.0))]
REF["huber_loss"] = lambda x, a: [F.huber_loss(x[0], x[1], reduction=a.get("reduction", "mean"),
                                               delta=a.get("delta", 1.0))]
REF["cosine_similarity"] = lambda x, a: [F.cosine_similarity(x[0], x[1], dim=a.get("dim", 1), eps=a.get("eps", 1e-8))]

# ---- structural ops added later (cases_missing_struct.py) -----------------------------------------
@op("median")
def _median(x, a):
    if "dim" in a:
        v, i = torch.median(x[0], a["dim"], keepdim=a.get("keepdim", False))
        return [v, i]
    return [torch.median(x[0])]


@op("kthvalue")
def _kthvalue(x, a):
    v, i = torch.kthvalue(x[0], a["k"], dim=a.get("dim", -1), keepdim=a.get("keepdim", False))
    return [v, i]


REF["nonzero"] = lambda x, a: (list(torch.nonzero(x[0], as_tuple=True)) if a.get("as_tuple")
                                else [torch.nonzero(x[0])])
REF["count_nonzero"] = lambda x, a: [torch.count_nonzero(x[0], dim=a.get("dims"))]
REF["logcumsumexp"] = lambda x, a: [torch.logcumsumexp(x[0], a["dim"])]
REF["cummax"] = lambda x, a: list(torch.cummax(x[0], a["dim"]))
REF["cummin"] = lambda x, a: list(torch.cummin(x[0], a["dim"]))
REF["trace"] = lambda x, a: [torch.trace(x[0])]
REF["tensordot"] = lambda x, a: [torch.tensordot(x[0], x[1], a["dims"] if "dims" in a else (a["dims_a"], a["dims_b"]))]
REF["baddbmm"] = lambda x, a: [torch.baddbmm(x[0], x[1], x[2], beta=a.get("beta", 1), alpha=a.get("alpha", 1))]
REF["kron"] = lambda x, a: [torch.kron(x[0], x[1])]
# torch.cross without dim: the first dim of size 3 (deprecated in PyTorch, so it warns; the
# warning is silenced by make_golden.py).
REF["cross"] = lambda x, a: [torch.cross(x[0], x[1], dim=a.get("dim"))]
REF["diff"] = lambda x, a: [torch.diff(x[0], n=a.get("n", 1), dim=a.get("dim", -1), prepend=x[1], append=x[2])]
REF["pad"] = lambda x, a: [F.pad(x[0], a["pad"], mode=a.get("mode", "constant"), value=a.get("value"))]
REF["diag"] = lambda x, a: [torch.diag(x[0], a.get("diagonal", 0))]
REF["diag_embed"] = lambda x, a: [torch.diag_embed(x[0], offset=a.get("offset", 0), dim1=a.get("dim1", -2),
                                                   dim2=a.get("dim2", -1))]


@op("repeat_interleave")
def _repeat_interleave(x, a):
    if "repeats" in a:
        return [torch.repeat_interleave(x[0], a["repeats"], dim=a.get("dim"), output_size=a.get("output_size"))]
    if len(x) == 1:  # the index form: repeat_interleave(repeats)
        return [torch.repeat_interleave(x[0], output_size=a.get("output_size"))]
    return [torch.repeat_interleave(x[0], x[1], dim=a.get("dim"), output_size=a.get("output_size"))]


@op("searchsorted")
def _searchsorted(x, a):
    values = a["scalar"] if "scalar" in a else x[1]
    sorter = x[2] if len(x) > 2 else None
    return [torch.searchsorted(x[0], values, out_int32=a.get("out_int32", False), right=a.get("right", False),
                               side=a.get("side"), sorter=sorter)]


@op("bucketize")
def _bucketize(x, a):
    if "scalar" in a:  # bucketize(Scalar, boundaries): the boundaries are input 0
        return [torch.bucketize(a["scalar"], x[0], out_int32=a.get("out_int32", False), right=a.get("right", False))]
    return [torch.bucketize(x[0], x[1], out_int32=a.get("out_int32", False), right=a.get("right", False))]
