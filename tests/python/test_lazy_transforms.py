"""Lazy evaluation (ricci.lazy, ricci.eval) and the function transforms over Python callables."""
import pytest

ricci = pytest.importorskip("ricci")
np = pytest.importorskip("numpy")


def test_lazy_records_then_eval_computes():
    x = ricci.randn(3, 4)
    with ricci.lazy():
        y = x * 2 + 1
    assert ricci.is_pending(y)
    s = ricci.pending_stats(y)
    assert s.nodes == 2 and s.bytes == 96  # two float32 [3, 4] results
    assert "digraph" in ricci.pending_dot(y)
    ricci.eval(y)
    assert not ricci.is_pending(y) and ricci.pending_stats(y).nodes == 0
    np.testing.assert_allclose(y.numpy(), x.numpy() * 2 + 1, rtol=1e-6)


def test_eval_trees_and_reading_values_evaluates():
    x = ricci.ones(2)
    with ricci.lazy():
        tree = {"a": [x + 1, (x * 3,)], "b": x - 1}
        z = x * 5
    ricci.eval(tree)
    assert not any(ricci.is_pending(t) for t in [tree["a"][0], tree["a"][1][0], tree["b"]])
    assert ricci.is_pending(z)
    assert z.tolist() == [5.0, 5.0]  # reading evaluates
    ricci.set_lazy(True)
    try:
        w = x * 2
        assert ricci.is_pending(w)
    finally:
        ricci.set_lazy(False)
    assert not ricci.is_lazy()


def test_lazy_backward_matches_eager():
    a = ricci.tensor(2.0, requires_grad=True)
    b = ricci.tensor(3.0, requires_grad=True)
    with ricci.lazy():
        L = ((a * b) * (a + b)) ** 2
    L.backward()
    assert (a.grad.item(), b.grad.item()) == (1260.0, 960.0)


def test_grad_and_value_and_grad():
    x = ricci.tensor([1.0, 2.0, 3.0])
    g = ricci.grad(lambda t: (t * t).sum())(x)
    assert g.tolist() == [2.0, 4.0, 6.0]
    assert x.grad is None and not x.requires_grad  # transforms never touch .grad

    def loss(params, inp, target):
        pred = inp @ params["w"] + params["b"]
        return ((pred - target) ** 2).mean()

    params = {"w": ricci.ones(3, 1), "b": ricci.zeros(1)}
    inp, target = ricci.randn(4, 3), ricci.randn(4, 1)
    value, grads = ricci.value_and_grad(loss)(params, inp, target)
    assert set(grads) == {"w", "b"} and grads["w"].shape == (3, 1) and grads["b"].shape == (1,)
    # against eager autograd
    w = ricci.ones(3, 1, requires_grad=True)
    b = ricci.zeros(1, requires_grad=True)
    L = loss({"w": w, "b": b}, inp, target)
    L.backward()
    assert abs(L.item() - value.item()) < 1e-6
    np.testing.assert_allclose(grads["w"].numpy(), w.grad.numpy(), rtol=1e-5)
    # several argnums, aux outputs
    ga, gb = ricci.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(ricci.tensor([2.0]), ricci.tensor([5.0]))
    assert (ga.item(), gb.item()) == (5.0, 2.0)
    (v, aux), g = ricci.value_and_grad(lambda t: ((t ** 2).sum(), t * 10))(ricci.tensor([3.0]))
    assert v.item() == 9.0 and aux.tolist() == [30.0] and g.tolist() == [6.0]
    gg = ricci.grad(ricci.grad(lambda t: (t ** 3).sum()))(ricci.tensor([2.0]))
    assert gg.tolist() == [12.0]


def test_vjp_jvp_and_jacobians():
    x = ricci.tensor([1.0, 2.0])
    out, cot = ricci.vjp(lambda t: t * t, [x], [ricci.ones(2)])
    assert out.tolist() == [1.0, 4.0] and cot[0].tolist() == [2.0, 4.0]
    out, tan = ricci.jvp(lambda t: t.sin(), [x], [ricci.ones(2)])
    np.testing.assert_allclose(tan.numpy(), np.cos([1.0, 2.0]), rtol=1e-6)
    J = ricci.jacrev(lambda t: t * t)(x)
    assert J.tolist() == [[2.0, 0.0], [0.0, 4.0]]
    assert ricci.jacfwd(lambda t: t * t)(x).tolist() == J.tolist()
    H = ricci.hessian(lambda t: (t ** 3).sum())(x)
    assert H.tolist() == [[6.0, 0.0], [0.0, 12.0]]
    assert ricci.grad(lambda t: (ricci.stop_gradient(t) * t).sum())(x).tolist() == [1.0, 2.0]


def test_vmap():
    X = ricci.randn(5, 3)
    w = ricci.randn(3)
    out = ricci.vmap(lambda row, v: (row * v).sum(), in_axes=(0, None))(X, w)
    np.testing.assert_allclose(out.numpy(), X.numpy() @ w.numpy(), rtol=1e-5)
    per_example = ricci.vmap(ricci.grad(lambda row: (row ** 2).sum()))(X)
    np.testing.assert_allclose(per_example.numpy(), 2 * X.numpy(), rtol=1e-6)
    cols = ricci.vmap(lambda c: c * 2, in_axes=1, out_axes=1)(X)
    np.testing.assert_allclose(cols.numpy(), 2 * X.numpy(), rtol=1e-6)
    a, b = ricci.vmap(lambda r: (r + 1, r.sum()))(X)
    assert a.shape == (5, 3) and b.shape == (5,)
