"""ricci.quantize / dequantize / quantized_matmul from Python (MLX's names and signatures), against
ricci's own dequantize-then-matmul and, when MLX is installed, against MLX's codes and numbers."""
import numpy as np
import pytest

import ricci


@pytest.mark.parametrize("bits", [2, 3, 4, 5, 6, 8])
@pytest.mark.parametrize("group_size", [32, 64, 128])
def test_round_trip_and_matmul(bits, group_size):
    ricci.manual_seed(0)
    w = ricci.randn(16, 256)
    q, scales, biases = ricci.quantize(w, group_size=group_size, bits=bits)
    assert q.dtype == ricci.int32 and q.shape == (16, 256 * bits // 32)
    assert scales.shape == (16, 256 // group_size) and biases.shape == scales.shape
    wd = ricci.dequantize(q, scales, biases, group_size=group_size, bits=bits)
    step = np.repeat(scales.numpy(), group_size, axis=1)
    assert np.all(np.abs(wd.numpy() - w.numpy()) <= np.abs(step) * 1.0 + 1e-6)
    x = ricci.randn(3, 256)
    y = ricci.quantized_matmul(x, q, scales, biases, transpose=True, group_size=group_size, bits=bits)
    np.testing.assert_allclose(y.numpy(), (x @ wd.T).numpy(), rtol=1e-4, atol=1e-4)


def test_errors_arrive_as_python_exceptions():
    with pytest.raises(ValueError, match="quantize"):
        ricci.quantize(ricci.randn(4, 64), group_size=64, bits=7)
    with pytest.raises((ValueError, RuntimeError), match="quantize"):
        ricci.quantize(ricci.randn(4, 60), group_size=64, bits=4)


def test_matches_mlx():
    mx = pytest.importorskip("mlx.core")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 128)).astype(np.float32)
    mq, ms, mb = mx.quantize(mx.array(w), group_size=64, bits=4)
    q, s, b = ricci.quantize(ricci.from_numpy(w), group_size=64, bits=4)
    assert np.array_equal(q.numpy().view(np.uint32), np.array(mq))
    np.testing.assert_array_equal(s.numpy(), np.array(ms))
    np.testing.assert_array_equal(b.numpy(), np.array(mb))
    x = rng.standard_normal((2, 128)).astype(np.float32)
    want = np.array(mx.quantized_matmul(mx.array(x), mq, ms, mb, transpose=True, group_size=64, bits=4))
    got = ricci.quantized_matmul(ricci.from_numpy(x), q, s, b).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _round_to_int8(x):
    """x rounded per block of 32 along the last axis: d = max|x| / 127, q = round half to even of x / d."""
    x = np.asarray(x, dtype=np.float32)
    out = np.zeros_like(x)
    for b0 in range(0, x.shape[-1], 32):
        blk = x[..., b0:b0 + 32]
        d = (np.abs(blk).max(axis=-1, keepdims=True) / np.float32(127)).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(d > 0, np.rint(blk / d), 0)
        out[..., b0:b0 + 32] = d.astype(np.float64) * q
    return out


@pytest.mark.parametrize("bits", [4, 8, 3])
def test_int8_activations(bits):
    ricci.manual_seed(1)
    w = ricci.randn(24, 128)
    q, s, b = ricci.quantize(w, group_size=32, bits=bits)
    x = ricci.randn(2, 128)
    y = ricci.quantized_matmul(x, q, s, b, group_size=32, bits=bits, activations="int8")
    wd = ricci.dequantize(q, s, b, group_size=32, bits=bits).numpy().astype(np.float64)
    want = _round_to_int8(x.numpy()) @ wd.T
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)
    assert not np.allclose(y.numpy(), x.numpy().astype(np.float64) @ wd.T, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="activations must be"):
        ricci.quantized_matmul(x, q, s, b, group_size=32, bits=bits, activations="int4")
    xg = ricci.randn(2, 128, requires_grad=True)
    with pytest.raises(RuntimeError, match="int8 activations"):
        ricci.quantized_matmul(xg, q, s, b, group_size=32, bits=bits, activations="int8").sum().backward()


class _Net(ricci.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = ricci.nn.Embedding(50, 64)
        self.body = ricci.nn.Sequential(ricci.nn.Linear(64, 64), ricci.nn.ReLU(), ricci.nn.Linear(64, 48))
        self.head = ricci.nn.Linear(48, 50, bias=False)  # 48: group 64 does not divide it

    def forward(self, idx):
        return self.head(self.body(self.emb(idx)))


def test_nn_quantize_layers_in_place():
    ricci.manual_seed(2)
    net = _Net()
    idx = ricci.tensor([[1, 4, 9], [16, 25, 36]])
    before = net(idx).detach().numpy()
    seen = []
    n = ricci.nn.quantize(net, group_size=64, bits=8,
                          class_predicate=lambda path, m: seen.append(path) or path != "body.2")
    assert n == 2  # emb, body.0; body.2 refused by the predicate; head's 48 inputs do not fit groups of 64
    assert "body.2" in seen and "head" not in seen
    assert isinstance(net.emb, ricci.nn.QuantizedEmbedding)
    assert isinstance(net.body[0], ricci.nn.QuantizedLinear) and isinstance(net.body[2], ricci.nn.Linear)
    q = net.body[0]
    assert (q.group_size, q.bits, q.in_features, q.out_features) == (64, 8, 64, 64)
    assert q.weight.dtype == ricci.int32 and q.scales.shape == (64, 1) and q.bias is not None
    after = net(idx).detach().numpy()
    np.testing.assert_allclose(after, before, rtol=0, atol=2e-2)
    assert not np.allclose(after, before, rtol=0, atol=1e-7)
    assert "body.0.scales" in net.state_dict()
    # int8 activations on every quantized layer, and back
    assert ricci.nn.set_activation_precision(net, "int8") == 2
    assert q.activations == "int8" and net.emb.activations == "int8"
    x = ricci.randn(3, 64)
    np.testing.assert_array_equal(
        q(x).numpy(),
        (ricci.quantized_matmul(x, q.weight, q.scales, q.biases, group_size=64, bits=8, activations="int8")
         + q.bias).detach().numpy())
    q.activations = "float"
    assert q.activations == "float"
    with pytest.raises(ValueError, match="activations must be"):
        q.activations = "int4"


def test_quantized_linear_from_linear_and_embedding():
    ricci.manual_seed(3)
    lin = ricci.nn.Linear(128, 16)
    ql = ricci.nn.QuantizedLinear.from_linear(lin, group_size=32, bits=4)
    x = ricci.randn(2, 128)
    wd = ricci.dequantize(ql.weight, ql.scales, ql.biases, group_size=32, bits=4)
    np.testing.assert_allclose(ql(x).numpy(), (x @ wd.T + lin.bias).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert "QuantizedLinear(input_dims=128, output_dims=16" in repr(ql)
    emb = ricci.nn.Embedding(10, 64)
    qe = ricci.nn.QuantizedEmbedding.from_embedding(emb, group_size=64, bits=8)
    rows = qe(ricci.tensor([3, 7])).numpy()
    np.testing.assert_allclose(rows, emb.weight.detach().numpy()[[3, 7]], rtol=0, atol=2e-2)
    assert qe.as_linear(ricci.randn(2, 64)).shape == (2, 10)
    assert ricci.nn.QuantizedLinear(64, 8, bias=False).bias is None
