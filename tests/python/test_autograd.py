"""Autograd from Python: the lesson's DAG, grad_fn, hooks, grad modes, autograd.grad."""
import pytest

ricci = pytest.importorskip("ricci")


def test_lesson_dag():
    a = ricci.tensor(2.0, requires_grad=True)
    b = ricci.tensor(3.0, requires_grad=True)
    c = a * b
    d = a + b
    e = c * d
    L = e ** 2
    L.backward()
    assert a.grad.item() == 1260.0
    assert b.grad.item() == 960.0
    assert c.grad_fn.name() == "MulBackward0" and d.grad_fn.name() == "AddBackward0"
    assert a.is_leaf and not c.is_leaf and c.grad is None
    nodes = [n for n, _ in e.grad_fn.next_functions]
    assert [n.name() for n in nodes] == ["MulBackward0", "AddBackward0"]
    assert a.grad_fn is None


def test_accumulation_and_reset():
    w = ricci.tensor(1.0, requires_grad=True)
    (w * 3).backward()
    (w * 3).backward()
    assert w.grad.item() == 6.0
    w.grad = None
    (w * 3).backward()
    assert w.grad.item() == 3.0


def test_backward_with_gradient_and_retain_graph():
    x = ricci.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(ricci.tensor([1.0, 1.0]), retain_graph=True)
    y.backward(gradient=ricci.tensor([1.0, 0.0]))
    assert x.grad.tolist() == [4.0, 4.0]
    with pytest.raises(RuntimeError):
        (x * x).backward()  # non-scalar without a gradient


def test_create_graph_second_derivative():
    x = ricci.tensor(3.0, requires_grad=True)
    y = x ** 3
    (g,) = ricci.autograd.grad(y, x, create_graph=True)
    assert g.item() == 27.0
    (g2,) = ricci.autograd.grad(g, x)
    assert g2.item() == 18.0


def test_hooks_with_python_callables():
    x = ricci.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.tolist()))
    (x * 2).sum().backward()
    assert seen == [[2.0, 2.0]]
    h.remove()
    y = ricci.tensor([1.0], requires_grad=True)
    z = y * 5
    z.register_hook(lambda g: g * 10)  # replaces the gradient
    z.sum().backward()
    assert y.grad.tolist() == [50.0]

    def bad(g):
        raise KeyError("from the hook")

    w = ricci.tensor([1.0], requires_grad=True)
    w.register_hook(bad)
    with pytest.raises(KeyError, match="from the hook"):
        (w * 2).sum().backward()


def test_no_grad_enable_grad_inference_mode():
    x = ricci.ones(2, requires_grad=True)
    with ricci.no_grad():
        y = x * 2
        with ricci.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad and ricci.is_grad_enabled()

    @ricci.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    with ricci.inference_mode():
        w = x * 2
        assert ricci.is_inference_mode_enabled()
    assert not w.requires_grad and w.is_inference()
    assert not ricci.is_inference_mode_enabled()
    with ricci.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_detach_requires_grad_and_gradcheck():
    x = ricci.randn(3, dtype=ricci.float64, requires_grad=True)
    assert not x.detach().requires_grad and x.detach().shares_storage_with(x)
    t = ricci.zeros(2)
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad = False
    assert not t.requires_grad
    assert ricci.autograd.gradcheck(lambda a: (a.sin() * a).sum(), [x])
    with pytest.raises(RuntimeError, match="leaf|in-place|requires grad"):
        x.add_(1)


def test_nonleaf_retain_grad_and_inplace_version_error():
    a = ricci.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b.retain_grad()
    c = b.sin()
    b.mul_(3)  # modifies the input sin saved for its backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        c.sum().backward()
