"""Zero-copy numpy interop: memory shared both ways, lifetimes right, dtypes mapped."""
import gc

import pytest

ricci = pytest.importorskip("ricci")
np = pytest.importorskip("numpy")


def test_tensor_to_numpy_shares_memory_both_ways():
    t = ricci.zeros(2, 3)
    a = t.numpy()
    a[0, 1] = 5.0
    assert t[0, 1].item() == 5.0
    t[1, 2] = 7.0
    assert a[1, 2] == 7.0
    assert np.shares_memory(a, np.asarray(t))


def test_numpy_view_outlives_the_tensor():
    t = ricci.arange(1000, dtype=ricci.float64)
    a = t.numpy()
    del t
    gc.collect()
    ricci.ones(1000, dtype=ricci.float64)  # reuse of freed memory would show here
    assert a.sum() == sum(range(1000))


def test_from_numpy_shares_memory_and_keeps_the_array_alive():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = ricci.from_numpy(a)
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    t[2, 3] = -1
    assert a[2, 3] == -1
    del a
    gc.collect()
    assert t.sum().item() == sum(range(12)) - 0 + 42 - 11 - 1


def test_non_contiguous_views_round_trip():
    a = np.arange(24, dtype=np.int64).reshape(4, 6)[:, ::2].T
    t = ricci.from_numpy(a)
    assert t.shape == a.shape and t.tolist() == a.tolist()
    assert not t.is_contiguous()
    back = t.numpy()
    np.testing.assert_array_equal(back, a)
    assert np.shares_memory(back, a)
    v = ricci.arange(12).reshape(3, 4).T
    np.testing.assert_array_equal(v.numpy(), np.arange(12).reshape(3, 4).T)


@pytest.mark.parametrize("dt", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"])
def test_dtypes(dt):
    a = (np.arange(6) % 3).astype(dt)
    t = ricci.from_numpy(a)
    assert str(t.dtype) == "ricci." + dt
    np.testing.assert_array_equal(t.numpy(), a)
    np.testing.assert_array_equal(np.asarray(ricci.tensor(a)), a)


def test_numpy_errors_and_copies():
    with pytest.raises(RuntimeError, match="requires grad"):
        ricci.ones(2, requires_grad=True).numpy()
    with pytest.raises(TypeError, match="BFloat16"):
        ricci.ones(2, dtype=ricci.bfloat16).numpy()
    a = np.arange(5)[::-1]  # negative strides: copied
    assert ricci.from_numpy(a).tolist() == [4, 3, 2, 1, 0]
    r = np.arange(3.0)
    r.flags.writeable = False
    assert ricci.from_numpy(r).tolist() == [0.0, 1.0, 2.0]
    c = ricci.tensor(np.ones(3))  # ricci.tensor copies
    assert c.dtype == ricci.float64


def test_lazy_tensor_numpy_evaluates():
    x = ricci.ones(3)
    with ricci.lazy():
        y = x * 2 + 1
    assert ricci.is_pending(y)
    np.testing.assert_array_equal(y.numpy(), [3.0, 3.0, 3.0])


def test_dlpack_with_numpy_and_torch():
    t = ricci.arange(6, dtype=ricci.float32)
    a = np.from_dlpack(t)  # numpy marks legacy DLPack imports read-only: write through ricci
    t[0] = 9
    assert a[0] == 9
    b = ricci.from_dlpack(np.arange(4.0))
    assert b.tolist() == [0.0, 1.0, 2.0, 3.0]
    torch = pytest.importorskip("torch")
    tt = torch.arange(4, dtype=torch.float32)
    r = ricci.from_dlpack(tt)
    tt[1] = 100
    assert r[1].item() == 100
    back = torch.from_dlpack(ricci.ones(3))
    assert back.tolist() == [1.0, 1.0, 1.0]
    bf = ricci.from_dlpack(torch.ones(2, dtype=torch.bfloat16))
    assert bf.dtype == ricci.bfloat16
