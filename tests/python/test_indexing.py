"""Indexing with ints, slices with steps, None, Ellipsis, bool and int tensors, and assignment, vs numpy."""
import pytest

ricci = pytest.importorskip("ricci")
np = pytest.importorskip("numpy")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

BASE = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)

CASES = [
    (1,), (-1,), (slice(None),), (slice(1, 3), None), (Ellipsis, 1), (None, Ellipsis, None),
    (0, slice(None, None, 2)), (slice(None), slice(1, None, 2), 2), (1, 2, 3, 4), (Ellipsis,),
    (slice(-3, None), slice(None, -1)), (0, None, slice(1, 3), Ellipsis, 0), (True,), (False,),
    (slice(10, 20),),
]


@pytest.mark.parametrize("idx", CASES, ids=repr)
def test_basic_indexing_matches_numpy_and_is_a_view(idx):
    x = ricci.from_numpy(BASE.copy())
    got = x[idx]
    want = BASE[idx]
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.asarray(got.contiguous()), want)
    if not any(isinstance(i, bool) for i in idx):
        assert got.shares_storage_with(x)


def test_advanced_indexing():
    x = ricci.from_numpy(BASE.copy())
    i = ricci.tensor([1, 0, 1])
    np.testing.assert_array_equal(x[i].numpy(), BASE[[1, 0, 1]])
    np.testing.assert_array_equal(x[[0, 1]].numpy(), BASE[[0, 1]])
    np.testing.assert_array_equal(x[:, [2, 0], 1].numpy(), BASE[:, [2, 0], 1])
    # PyTorch's rule (not NumPy's): an int before a slice is basic, so the advanced dims stay in place
    np.testing.assert_array_equal(x[0, :, [1, 3], [0, 4]].numpy(), BASE[0][:, [1, 3], [0, 4]])
    m = x > 100
    np.testing.assert_array_equal(x[m].numpy(), BASE[BASE > 100])
    np.testing.assert_array_equal(x[np.array([1, 0])].numpy(), BASE[np.array([1, 0])])


def test_assignment():
    a = np.zeros((4, 5), dtype=np.float32)
    x = ricci.zeros(4, 5)
    x[1] = 3.0
    a[1] = 3.0
    x[:, 1:4:2] = ricci.tensor([7.0, 8.0])
    a[:, 1:4:2] = [7.0, 8.0]
    x[x > 7.5] = -1
    a[a > 7.5] = -1
    x[ricci.tensor([0, 3]), 0] = ricci.tensor([5.0, 6.0])
    a[[0, 3], 0] = [5.0, 6.0]
    x[..., -1] = [1, 2, 3, 4]
    a[..., -1] = [1, 2, 3, 4]
    np.testing.assert_array_equal(x.numpy(), a)


def test_index_errors():
    x = ricci.zeros(3, 4)
    with pytest.raises(IndexError, match="out of bounds|out of range"):
        x[3]
    with pytest.raises(IndexError):
        x[ricci.tensor([0, 7])]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_slices_match_numpy(data):
    shape = data.draw(st.lists(st.integers(0, 5), min_size=1, max_size=3))
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    idx = []
    for n in shape:
        kind = data.draw(st.sampled_from(["int", "slice", "none"]))
        if kind == "int" and n > 0:
            idx.append(data.draw(st.integers(-n, n - 1)))
        elif kind == "none":
            idx.append(None)
            idx.append(slice(None))
        else:
            start = data.draw(st.none() | st.integers(-7, 7))
            stop = data.draw(st.none() | st.integers(-7, 7))
            step = data.draw(st.none() | st.integers(1, 3) | st.integers(-3, -1))
            idx.append(slice(start, stop, step))
    idx = tuple(idx)
    got = ricci.from_numpy(a)[idx]
    np.testing.assert_array_equal(np.asarray(got.contiguous()), a[idx])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_negative_steps_read_and_write_like_numpy(data):
    """Note [Negative steps]: x[::-1] reads a copy; x[::-1] = v writes through; with ... and None,
    and next to an integer-tensor index."""
    shape = data.draw(st.lists(st.integers(0, 5), min_size=1, max_size=3))
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    idx = [slice(data.draw(st.none() | st.integers(-7, 7)), data.draw(st.none() | st.integers(-7, 7)),
                 data.draw(st.integers(-3, -1) | st.integers(1, 2))) for _ in shape]
    if data.draw(st.booleans()):
        k = data.draw(st.integers(0, len(idx)))
        idx = idx[:k] + [Ellipsis] + idx[k + 1:] if k < len(idx) else idx + [None]
    if shape[0] > 0 and data.draw(st.booleans()):
        idx[0] = np.array(data.draw(st.lists(st.integers(0, shape[0] - 1), max_size=3, unique=True)), dtype=np.int64)
    idx = tuple(idx)
    t = ricci.tensor(a)
    np.testing.assert_array_equal(np.asarray(t[idx].contiguous()), a[idx])
    b = a.copy()
    values = -np.arange(b[idx].size, dtype=np.float64).reshape(b[idx].shape) - 1
    b[idx] = values
    t[idx] = ricci.tensor(values)
    np.testing.assert_array_equal(t.numpy(), b)


def test_none_alone_is_a_new_axis():
    assert ricci.tensor(False)[None].shape == (1,)
    assert ricci.ones(2, 3)[None].shape == (1, 2, 3)
    x = ricci.zeros(2)
    x[None] = ricci.ones(1, 2)
    assert x.tolist() == [1.0, 1.0]
