"""einops from Python: ricci.rearrange / reduce / repeat (the C++ ricci::einops) against the einops
package on numpy arrays, views, gradients, errors; and the einops package itself on ricci tensors."""
import gc

import pytest

ricci = pytest.importorskip("ricci")
np = pytest.importorskip("numpy")
from hypothesis import given, settings, strategies as st  # noqa: E402

try:
    import einops
except ImportError:  # the package is only needed for the differential tests
    einops = None

needs_einops = pytest.mark.skipif(einops is None, reason="einops is not installed")

CASES = [
    ("rearrange", "b c h w -> b h w c", {}),
    ("rearrange", "b c h w -> b (c h w)", {}),
    ("rearrange", "b c h w -> (b h) (w c)", {}),
    ("rearrange", "b c (h p) w -> b c h p w", {"p": 2}),
    ("rearrange", "b c (h p) (w q) -> b (c p q) h w", {"p": 2, "q": 3}),
    ("rearrange", "b ... -> b (...)", {}),
    ("rearrange", "... w -> w ...", {}),
    ("rearrange", "b c h w -> b 1 c h w 1", {}),
    ("rearrange", "b c h w -> (b c) () h w", {}),
    ("reduce", "b c h w -> b c", "mean"),
    ("reduce", "b c h w -> b c 1 1", "max"),
    ("reduce", "b c (h 2) (w 3) -> b c h w", "max"),
    ("reduce", "b c h w -> c", "sum"),
    ("reduce", "b c h w -> h w", "min"),
    ("reduce", "b c h w -> b w", "prod"),
    ("reduce", "b ... -> b", "sum"),
    ("repeat", "b c h w -> b c h w r", {"r": 3}),
    ("repeat", "b c h w -> (b r) c h w", {"r": 2}),
    ("repeat", "b c h w -> b c (h 2) (w 2)", {}),
    ("repeat", "b c h w -> b (r c) h w", {"r": 2}),
]


def run(mod, kind, pattern, extra, x):
    if kind == "reduce":
        return mod.reduce(x, pattern, extra)
    return getattr(mod, kind)(x, pattern, **extra)


@needs_einops
@pytest.mark.parametrize("kind,pattern,extra", CASES)
def test_against_the_einops_package(kind, pattern, extra):
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 6)).astype(np.float64)
    expected = run(einops, kind, pattern, extra, a)
    got = run(ricci, kind, pattern, extra, ricci.from_numpy(a))
    assert tuple(got.shape) == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


@needs_einops
@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.randoms(use_true_random=False), st.booleans())
def test_random_permutations_and_merges(shape, rnd, transpose_input):
    names = "abcd"[: len(shape)]
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    x = ricci.from_numpy(a)
    if transpose_input and len(shape) >= 2:  # a non-contiguous input
        a = a.swapaxes(0, -1)
        x = x.transpose(0, -1)
        names = names[-1] + names[1:-1] + names[0] if len(names) > 1 else names
    out = list(names)
    rnd.shuffle(out)
    groups, i = [], 0
    while i < len(out):  # merge random runs of the output axes
        k = rnd.randint(1, len(out) - i)
        groups.append("(" + " ".join(out[i:i + k]) + ")" if k > 1 else out[i])
        i += k
    pattern = " ".join(names) + " -> " + " ".join(groups)
    np.testing.assert_array_equal(ricci.rearrange(x, pattern).numpy(), einops.rearrange(a, pattern))


def test_rearrange_is_a_view_where_strides_allow():
    x = ricci.arange(120.0).reshape(2, 3, 4, 5)
    for p in ["b c h w -> b h w c", "b c h w -> b (c h w)", "b c h w -> (b c) (h w)", "b ... -> b (...)"]:
        v = ricci.rearrange(x, p)
        assert v.shares_storage_with(x), p
    v = ricci.rearrange(x, "b c h w -> (b c) (h w)")
    v[0, 0] = -1.0
    assert x[0, 0, 0, 0].item() == -1.0
    copy = ricci.rearrange(x, "b c h w -> (h b) c w")  # not adjacent in memory: a copy
    assert not copy.shares_storage_with(x)
    assert ricci.repeat(x, "b c h w -> b c h w r", r=2).shares_storage_with(x)  # an expanded view


def test_lists_and_keyword_lengths():
    ts = [ricci.full((2, 3), float(i)) for i in range(4)]
    out = ricci.rearrange(ts, "n h w -> h (n w)")
    assert out.shape == (2, 12)
    assert out[0].tolist() == [0.0] * 3 + [1.0] * 3 + [2.0] * 3 + [3.0] * 3
    assert ricci.reduce(ts, "n h w -> h w", "sum").tolist() == [[6.0] * 3] * 2
    assert ricci.rearrange(ricci.zeros(6, 4), "(a b) c -> a b c", a=2).shape == (2, 3, 4)
    assert ricci.repeat(ricci.ones(2), "a -> a b", b=3).shape == (2, 3)
    # ricci.repeat with sizes is still PyTorch's tiling repeat
    assert ricci.repeat(ricci.ones(2), 3).shape == (6,)


def test_gradients_flow_through():
    x = ricci.randn(2, 6, 4, dtype=ricci.float64, requires_grad=True)
    y = ricci.reduce(ricci.rearrange(x, "b (h p) w -> b h p w", p=2), "b h p w -> b h", "mean")
    ricci.repeat(y, "b h -> b h r", r=3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 6, 4), 3.0 / 8.0))
    assert ricci.autograd.gradcheck(lambda t: ricci.reduce(t, "b (h 2) w -> w b", "max"), [x])


@pytest.mark.parametrize("call,exc,msg", [
    (lambda x: ricci.rearrange(x, "a b c"), ricci.ValueError, "[rearrange] pattern 'a b c': no '->'"),
    (lambda x: ricci.rearrange(x, "a b c -> a b"), ValueError, "axes on only one side (c)"),
    (lambda x: ricci.rearrange(x, "a b -> b a"), ricci.ShapeError, "the input side names 2 dims but the input has shape"),
    (lambda x: ricci.rearrange(x, "a (b c) d -> a b c d", b=4), ValueError, "cannot split"),
    (lambda x: ricci.rearrange(x, "a b c -> a b c", z=2), ValueError, "the pattern has no axis 'z'"),
    (lambda x: ricci.reduce(x, "a b c -> a", "median"), ValueError, "unknown reduction 'median'"),
    (lambda x: ricci.repeat(x, "a b c -> a b c d"), ValueError, "the new axes d need a length"),
    (lambda x: ricci.rearrange(x, "a (b (c)) -> a b c"), ValueError, "parentheses inside parentheses"),
])
def test_errors_are_python_exceptions_with_the_pattern(call, exc, msg):
    with pytest.raises(exc) as info:
        call(ricci.zeros(2, 6, 4))
    assert msg in str(info.value)


@needs_einops
def test_the_einops_package_on_ricci_tensors():
    x = ricci.arange(24.0).reshape(2, 3, 4)
    y = einops.rearrange(x, "a b c -> c (a b)")
    assert isinstance(y, ricci.Tensor) and y.shape == (4, 6)
    np.testing.assert_array_equal(y.numpy(), einops.rearrange(np.arange(24.0).reshape(2, 3, 4), "a b c -> c (a b)"))
    assert einops.reduce(x, "a b c -> a", "max").tolist() == [11.0, 23.0]
    assert einops.repeat(x, "a b c -> a b c d", d=2).shape == (2, 3, 4, 2)
    packed, ps = einops.pack([x, x], "a * c")
    assert packed.shape == (2, 6, 4)
    assert [t.shape for t in einops.unpack(packed, ps, "a * c")] == [(2, 3, 4), (2, 3, 4)]
    assert einops.einsum(x, x, "a b c, a b c -> a").shape == (2,)
    # through __array_namespace__ (einops.array_api), the standard's path
    import einops.array_api as ea
    z = ea.rearrange(x, "a b c -> (a b) c")
    assert isinstance(z, ricci.Tensor) and z.shape == (6, 4)
    assert ea.reduce(x, "a b c -> c", "sum").tolist() == np.arange(24.0).reshape(2, 3, 4).sum((0, 1)).tolist()
    # gradients flow through the package's calls too
    w = ricci.ones(2, 3, requires_grad=True)
    einops.reduce(einops.repeat(w, "a b -> a b r", r=4), "a b r -> a", "sum").sum().backward()
    assert w.grad.tolist() == [[4.0] * 3] * 2
    gc.collect()
