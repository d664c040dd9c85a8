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


# ---- the buffer protocol ------------------------------------------------------------------------------


def test_memoryview_and_asarray_share_memory():
    t = ricci.arange(12, dtype=ricci.float32).reshape(3, 4)
    m = memoryview(t)
    assert (m.format, m.shape, m.strides, m.readonly) == ("f", (3, 4), (16, 4), False)
    m[1, 2] = 99.0  # write through the memoryview
    assert t[1, 2].item() == 99.0
    a = np.asarray(t)
    assert a.ctypes.data == t.data_ptr()  # no copy
    t[0, 0] = -5.0
    assert a[0, 0] == -5.0 and m[0, 0] == -5.0
    tt = t.T  # strided views export their strides
    assert memoryview(tt).strides == (4, 16)
    np.testing.assert_array_equal(np.asarray(tt), a.T)
    assert np.shares_memory(np.asarray(tt), a)


@pytest.mark.parametrize("dt,fmt", [("bool", "?"), ("uint8", "B"), ("int8", "b"), ("int16", "h"), ("int32", "i"),
                                    ("int64", "q"), ("float16", "e"), ("float64", "d")])
def test_buffer_formats(dt, fmt):
    t = ricci.tensor((np.arange(6) % 2).astype(dt))
    m = memoryview(t)
    assert m.format.lstrip("@=<") in (fmt, "l" if fmt == "q" else fmt)
    assert m.itemsize == t.element_size()
    np.testing.assert_array_equal(np.frombuffer(m.cast("B"), dtype=dt), (np.arange(6) % 2).astype(dt))


def test_buffer_lifetime_the_producer_dropped_first():
    t = ricci.arange(1000, dtype=ricci.float64)
    m = memoryview(t)
    del t
    gc.collect()
    ricci.ones(1000, dtype=ricci.float64)
    assert sum(m.tolist()) == sum(range(1000))
    m.release()


def test_buffer_refusals():
    with pytest.raises(BufferError, match="requires grad"):
        memoryview(ricci.ones(2, requires_grad=True))
    with pytest.raises(BufferError, match="bfloat16"):
        memoryview(ricci.ones(2, dtype=ricci.bfloat16))
    with pytest.raises(RuntimeError, match="requires grad"):  # numpy falls back to __array__, which says why
        np.asarray(ricci.ones(2, requires_grad=True))


def test_array_dunder():
    t = ricci.arange(4, dtype=ricci.int32)
    a = t.__array__()
    assert a.dtype == np.int32 and np.shares_memory(a, np.asarray(t))
    assert t.__array__(np.float64).dtype == np.float64
    c = t.__array__(copy=True)
    c[0] = 7
    assert t[0].item() == 0


# ---- DLPack with numpy, PyTorch and JAX ----------------------------------------------------------------


def test_dlpack_versioned_capsules_are_writable():
    t = ricci.zeros(4)
    assert t.__dlpack_device__() == (1, 0)
    a = np.from_dlpack(t)  # numpy 2 asks for max_version (1, 0): a writable array
    a[1] = 3.0
    assert t[1].item() == 3.0
    assert "dltensor_versioned" in repr(t.__dlpack__(max_version=(1, 0)))
    assert "dltensor" in repr(t.__dlpack__())


def test_dlpack_numpy_lifetimes():
    a = np.arange(100, dtype=np.float64)
    r = ricci.from_dlpack(a)
    del a
    gc.collect()
    assert r.sum().item() == sum(range(100))
    t = ricci.arange(100, dtype=ricci.float64)
    b = np.from_dlpack(t)
    del t
    gc.collect()
    ricci.ones(100, dtype=ricci.float64)
    assert b.sum() == sum(range(100))


def test_dlpack_torch_both_ways_and_lifetimes():
    torch = pytest.importorskip("torch")
    tt = torch.zeros(3, 4)
    r = ricci.from_dlpack(tt)
    assert r.data_ptr() == tt.data_ptr()
    r[1, 1] = 5.0  # ricci writes, torch reads
    assert tt[1, 1].item() == 5.0
    tt[2, 3] = 7.0  # torch writes, ricci reads
    assert r[2, 3].item() == 7.0
    t = ricci.arange(12, dtype=ricci.float32).reshape(3, 4)
    back = torch.from_dlpack(t)
    assert back.data_ptr() == t.data_ptr()
    back[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    t[0, 1] = -1.0
    assert back[0, 1].item() == -1.0
    strided = torch.from_dlpack(t.T)
    assert strided.stride() == (1, 4) and strided.tolist() == t.T.tolist()
    # producers dropped first
    del tt
    gc.collect()
    assert r[2, 3].item() == 7.0
    del t
    gc.collect()
    ricci.ones(12)
    assert back.flatten().tolist()[:3] == [42.0, -1.0, 2.0]
    for dt in (torch.float16, torch.bfloat16, torch.int8, torch.int64, torch.bool, torch.uint8):
        z = ricci.from_dlpack(torch.zeros(2, dtype=dt))
        assert z.tolist() in ([0, 0], [0.0, 0.0], [False, False])


def test_dlpack_jax_both_ways_and_lifetimes():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    j = jnp.arange(12, dtype=jnp.float32).reshape(3, 4)
    r = ricci.from_dlpack(j)  # ricci reads JAX's buffer (JAX arrays are immutable: read only)
    assert r.data_ptr() == j.unsafe_buffer_pointer()
    assert r.tolist() == np.arange(12, dtype=np.float32).reshape(3, 4).tolist()
    t = ricci.arange(12, dtype=ricci.float32).reshape(3, 4)
    jj = jnp.from_dlpack(t)  # JAX reads ricci's buffer
    assert jj.unsafe_buffer_pointer() == t.data_ptr()
    t[0, 0] = 42.0  # a ricci write is seen by the zero-copy JAX array
    assert float(jj[0, 0]) == 42.0
    j2 = jax.dlpack.from_dlpack(ricci.ones(4, dtype=ricci.float64)) if jax.config.jax_enable_x64 else None
    assert j2 is None or float(j2.sum()) == 4.0
    # producers dropped first
    del j
    gc.collect()
    assert r.sum().item() == sum(range(12))
    del t
    gc.collect()
    ricci.ones(12)
    assert float(jj.sum()) == sum(range(12)) + 42.0
    ints = ricci.from_dlpack(jnp.arange(5, dtype=jnp.int32))
    assert ints.dtype == ricci.int32 and ints.tolist() == [0, 1, 2, 3, 4]


def test_dlpack_copy_keyword():
    t = ricci.arange(4, dtype=ricci.float32)
    copied = np.from_dlpack(t, copy=True)
    copied[0] = 100.0
    assert t[0].item() == 0.0
    shared = np.from_dlpack(t, copy=False)
    shared[1] = 7.0
    assert t[1].item() == 7.0
    assert complex(ricci.tensor(2.5)) == 2.5 + 0j
