"""Operators, reductions and matmul against numpy: hypothesis over shapes (broadcasting), dtypes and
non-contiguous inputs (transposes, step slices)."""
import operator

import pytest

ricci = pytest.importorskip("ricci")
np = pytest.importorskip("numpy")
pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

FLOATS = {"float32": 1e-5, "float64": 1e-12}
DTYPES = ["float32", "float64", "int32", "int64"]


def as_ricci(a, layout):
    """The same values as a, laid out contiguously, transposed or step-sliced."""
    if layout == "contiguous" or a.ndim < 2:
        return ricci.tensor(a)
    if layout == "transposed":
        return ricci.tensor(np.ascontiguousarray(a.T)).T
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    big[..., ::2] = a
    return ricci.tensor(big)[..., ::2]


@st.composite
def pair(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4))
    elems = st.integers(-20, 20) if dtype.startswith("int") else st.floats(-10, 10, width=32)
    a = draw(hnp.arrays(dtype, shapes.input_shapes[0], elements=elems))
    b = draw(hnp.arrays(dtype, shapes.input_shapes[1], elements=elems))
    layout = draw(st.sampled_from(["contiguous", "transposed", "strided"]))
    return a, b, layout


def check(got, want, dtype=None):
    got = np.asarray(got.contiguous()) if isinstance(got, ricci.Tensor) else np.asarray(got)
    assert got.shape == np.shape(want)
    if np.asarray(want).dtype.kind == "f":
        tol = FLOATS.get(str(np.asarray(want).dtype), 1e-5)
        np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * 10)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.lt, operator.le, operator.eq,
                                operator.ne, operator.gt, operator.ge, operator.truediv], ids=lambda o: o.__name__)
@settings(max_examples=25, deadline=None)
@given(data=pair())
def test_binary_ops_match_numpy(op, data):
    a, b, layout = data
    if op is operator.truediv and a.dtype.kind == "i":
        want = a.astype(np.float32) / np.where(b == 0, 1, b).astype(np.float32)
        b = np.where(b == 0, 1, b)
    else:
        with np.errstate(all="ignore"):
            want = op(a, b)
    got = op(as_ricci(a, layout), as_ricci(b, layout))
    check(got, want)


@settings(max_examples=25, deadline=None)
@given(data=pair(), scalar=st.integers(-3, 3))
def test_scalar_and_reflected_ops(data, scalar):
    a, _, layout = data
    x = as_ricci(a, layout)
    check(x + scalar, a + a.dtype.type(scalar))
    check(scalar - x, a.dtype.type(scalar) - a)
    check(scalar * x, a * a.dtype.type(scalar))
    check(x * 2.5, (a * 2.5).astype(a.dtype if a.dtype.kind == "f" else np.float32))
    check(-x, -a)
    check(abs(x), np.abs(a))


def test_type_promotion_like_torch():
    i = ricci.tensor([1, 2])
    assert (i + 1).dtype == ricci.int64
    assert (i + 1.5).dtype == ricci.float32
    assert (i / 2).dtype == ricci.float32
    assert (ricci.tensor([1.0], dtype=ricci.float16) * 2.5).dtype == ricci.float16
    assert (ricci.tensor([1], dtype=ricci.int32) + ricci.tensor([1], dtype=ricci.int64)).dtype == ricci.int64
    assert (i // 2).tolist() == [0, 1] and (7 // ricci.tensor([2])).tolist() == [3]
    assert (ricci.tensor([-3, 3]) % 2).tolist() == [1, 1]
    assert (2 ** ricci.tensor([1.0, 3.0])).tolist() == [2.0, 8.0]
    assert (ricci.tensor([True, False]) & ricci.tensor([True, True])).tolist() == [True, False]
    assert (~ricci.tensor([True, False])).tolist() == [False, True]
    assert (ricci.tensor([1, 2]) == None) is False  # noqa: E711  (NotImplemented -> identity)


def test_inplace_operators_keep_identity_and_version():
    x = ricci.ones(3)
    y = x
    x += 1
    x *= ricci.tensor([1.0, 2.0, 3.0])
    x -= 1
    x /= 2
    assert y is x
    assert x.tolist() == [0.5, 1.5, 2.5]
    assert x.add_(1).mul_(2) is x
    v = ricci.zeros(2, 2)
    v[0].add_(5)  # in place through a view
    assert v.tolist() == [[5.0, 5.0], [0.0, 0.0]]


@settings(max_examples=40, deadline=None)
@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                    elements=st.floats(-5, 5)), layout=st.sampled_from(["contiguous", "transposed", "strided"]),
       keepdim=st.booleans())
def test_reductions_match_numpy(a, layout, keepdim):
    x = as_ricci(a, layout)
    d = a.ndim - 1
    check(x.sum(), a.sum())
    check(x.sum(dim=d, keepdim=keepdim), a.sum(axis=d, keepdims=keepdim))
    check(x.mean(dim=(0,), keepdim=keepdim), a.mean(axis=0, keepdims=keepdim))
    check(x.amax(dim=d), a.max(axis=d))
    check(x.max(), a.max())
    check(x.max(dim=0).values, a.max(axis=0))
    check(x.argmin(), np.argmin(a))
    if a.shape[d] > 1:
        check(x.var(dim=d), a.var(axis=d, ddof=1))
        check(x.std(dim=d, correction=0), a.std(axis=d))
    check(x.cumsum(0), np.cumsum(a, axis=0))
    check(x.prod(), np.prod(a))
    check(ricci.sum(x), a.sum())


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 3), st.sampled_from(["float32", "float64"]))
def test_matmul_matches_numpy(m, k, n, batch, dtype):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = rng.standard_normal(((batch,) if batch else ()) + (m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    check(ricci.tensor(a) @ ricci.tensor(b), a @ b)
    check(ricci.matmul(ricci.tensor(a), ricci.tensor(np.ascontiguousarray(b.T)).T), a @ b)
    check(ricci.einsum("...ij,jk->...ik", ricci.tensor(a), ricci.tensor(b)), a @ b)


def test_unary_and_shape_ops():
    a = np.linspace(0.1, 2.0, 12).reshape(3, 4)
    x = ricci.tensor(a)
    for name in ["exp", "log", "sqrt", "sin", "cos", "tanh", "abs", "floor", "ceil"]:
        check(getattr(x, name)(), getattr(np, name)(a))
        check(getattr(ricci, name)(x), getattr(np, name)(a))
    check(x.sigmoid(), 1 / (1 + np.exp(-a)))
    check(x.softmax(dim=-1), np.exp(a) / np.exp(a).sum(-1, keepdims=True))
    check(x.permute(1, 0), a.T)
    check(x.reshape(-1), a.reshape(-1))
    check(x.unsqueeze(0), a[None])
    check(ricci.cat([x, x], dim=1), np.concatenate([a, a], axis=1))
    check(ricci.stack([x, x]), np.stack([a, a]))
    check(x.flip(0), a[::-1])
    check(x.transpose(0, 1), a.T)
    check(ricci.where(x > 1, x, 0.0), np.where(a > 1, a, 0.0))
    check(x.clamp(0.5, 1.5), np.clip(a, 0.5, 1.5))
    vals, idx = x.sort(dim=1, descending=True)
    check(vals, -np.sort(-a, axis=1))
    assert [t.shape for t in x.split(2, dim=1)] == [(3, 2), (3, 2)]
    assert x.topk(2).values.shape == (3, 2)


def test_gil_released_matmul_from_threads():
    import threading
    x = ricci.randn(128, 128)
    want = (x @ x).sum().item()
    out = []
    ths = [threading.Thread(target=lambda: out.append((x @ x).sum().item())) for _ in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert len(out) == 4 and all(abs(o - want) < 1e-3 * max(1, abs(want)) for o in out)
