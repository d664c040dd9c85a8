"""Creation, metadata, printing, conversion to Python, errors (the ricci.Error hierarchy)."""
import math

import pytest

ricci = pytest.importorskip("ricci")
np = pytest.importorskip("numpy")


def test_creation_from_lists_infers_dtype_like_torch():
    assert ricci.tensor([1, 2, 3]).dtype == ricci.int64
    assert ricci.tensor([1.0, 2]).dtype == ricci.float32
    assert ricci.tensor([True, False]).dtype == ricci.bool
    assert ricci.tensor(2.5).shape == ()
    assert ricci.tensor([[1, 2], [3, 4]], dtype=ricci.float64).dtype == ricci.float64
    assert ricci.tensor([]).shape == (0,)
    assert ricci.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert ricci.tensor([2**62]).item() == 2**62  # int64 exact


def test_ragged_lists_raise_value_error():
    with pytest.raises(ValueError, match="ragged|length"):
        ricci.tensor([[1, 2], [3]])


def test_factories():
    assert ricci.zeros(2, 3).shape == (2, 3)
    assert ricci.zeros((2, 3)).tolist() == [[0.0] * 3] * 2
    assert ricci.ones([4], dtype=ricci.int32).dtype == ricci.int32
    assert ricci.full((2,), 7).tolist() == [7, 7]
    assert ricci.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert ricci.arange(1, 2, 0.5).tolist() == [1.0, 1.5]
    assert ricci.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert ricci.empty(3).shape == (3,)
    x = ricci.randn(3, 4)
    assert ricci.zeros_like(x).shape == (3, 4) and ricci.ones_like(x, dtype=ricci.float64).dtype == ricci.float64
    assert ricci.rand(100).max().item() < 1.0
    assert ricci.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ricci.tensor([1, 2], requires_grad=False).requires_grad is False
    assert ricci.randn(2, requires_grad=True).requires_grad


def test_metadata_and_views():
    y = ricci.arange(6).reshape(2, 3)
    assert y.shape == (2, 3) and y.strides() == (3, 1) and y.stride() == (3, 1)
    assert y.T.shape == (3, 2) and y.T.strides() == (1, 3) and not y.T.is_contiguous()
    assert y.T.contiguous().strides() == (2, 1)
    assert y[:, 1:].storage_offset() == 1
    assert y.ndim == 2 and y.numel() == 6 and len(y) == 2 and y.dim() == 2
    assert y.T.shares_storage_with(y)
    assert ricci.randn(2, 3, 4).mT.shape == (2, 4, 3)
    assert str(y.device) == "cpu" and y.device == "cpu"
    assert repr(ricci.float32) == "ricci.float32"
    assert ricci.float32.itemsize == 4 and ricci.bfloat16.is_floating_point


def test_repr_matches_cpp_pytorch_format():
    assert repr(ricci.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(ricci.tensor([1, 2, 3])) == "tensor([1, 2, 3])"
    assert repr(ricci.tensor(2.0, requires_grad=True)) == "tensor(2., requires_grad=True)"
    a = ricci.tensor(2.0, requires_grad=True)
    assert repr(a * 3) == "tensor(6., grad_fn=<MulBackward0>)"
    assert repr(ricci.tensor([1.5], dtype=ricci.float64)) == "tensor([1.5000], dtype=ricci.float64)" or \
        "dtype=" in repr(ricci.tensor([1.5], dtype=ricci.float64))


def test_python_conversions():
    t = ricci.tensor([[1, 2], [3, 4]])
    assert [r.tolist() for r in t] == [[1, 2], [3, 4]]
    assert t[1, 0].item() == 3 and isinstance(t[1, 0].item(), int)
    assert isinstance(ricci.tensor(1.5).item(), float) and ricci.tensor(True).item() is True
    assert float(ricci.tensor(2.5)) == 2.5 and int(ricci.tensor(7)) == 7
    assert bool(ricci.tensor(1)) and not bool(ricci.tensor(0.0))
    assert list(range(10))[ricci.tensor(3)] == 3  # __index__
    with pytest.raises(TypeError):
        len(ricci.tensor(1.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ricci.tensor([1, 2]))
    assert ricci.tensor([True, False]).tolist() == [True, False]
    assert math.isnan(ricci.tensor([float("nan")]).tolist()[0])


def test_to_and_conversions():
    x = ricci.tensor([1.7, -2.2])
    assert x.to(ricci.int64).tolist() == [1, -2]
    assert x.to(dtype=ricci.float64).dtype == ricci.float64
    assert x.double().dtype == ricci.float64 and x.long().dtype == ricci.int64
    assert x.to("cpu") is not None
    assert x.half().dtype == ricci.float16 and x.bfloat16().dtype == ricci.bfloat16


def test_error_hierarchy_and_messages():
    with pytest.raises(ricci.ShapeError) as e:
        ricci.zeros(3, 4) + ricci.zeros(2, 4)
    assert isinstance(e.value, ValueError) and isinstance(e.value, ricci.Error) and isinstance(e.value, RuntimeError)
    assert "[" in str(e.value)  # the C++ message, starting with the op in brackets
    with pytest.raises(IndexError):
        ricci.zeros(3)[5]
    with pytest.raises(ricci.IndexError):
        ricci.zeros(3).sum(dim=4)
    with pytest.raises(TypeError) as e:
        ricci.randn(3, dtype=ricci.int64)
    assert isinstance(e.value, ricci.DTypeError)
    with pytest.raises(ValueError):
        ricci.arange(6).view(4)
    with pytest.raises(ricci.Error, match=r"view"):
        ricci.arange(6).reshape(2, 3).T.view(6)


def test_generated_type_stubs_parse():
    """The stubs nanobind's stubgen writes (ricci/_ricci/**/*.pyi) are valid Python, submodules too."""
    import ast
    import pathlib
    stub_dir = pathlib.Path(ricci.__file__).parent / "_ricci"
    stubs = sorted(stub_dir.rglob("*.pyi")) if stub_dir.is_dir() else []
    if not stubs:
        pytest.skip("no generated stubs next to this ricci (RICCI_PYTHON_STUBS=OFF)")
    names = {str(p.relative_to(stub_dir)) for p in stubs}
    assert {"__init__.pyi", "optim/lr_scheduler.pyi", "nn/functional.pyi"} <= names
    for p in stubs:
        ast.parse(p.read_text(), filename=str(p))
    assert "def rearrange(" in (stub_dir / "__init__.pyi").read_text()
