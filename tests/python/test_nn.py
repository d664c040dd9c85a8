"""nn from Python: layers, a Module subclassed in Python, state_dict, train/eval, optimizers, safetensors."""
import pytest

ricci = pytest.importorskip("ricci")
np = pytest.importorskip("numpy")
nn = ricci.nn
F = ricci.nn.functional


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(8, 3)
        self.scale = nn.Parameter(ricci.ones(3))
        self.register_buffer("steps", ricci.zeros(1))
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_python_subclass_registers_parameters_and_submodules():
    m = MLP()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"] or \
        sorted(names) == sorted(["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
    assert set(m.state_dict()) == set(names) | {"steps"}
    assert m.note == "plain attribute" and m.scale.shape == (3,) and m.steps.shape == (1,)
    assert isinstance(m.fc1, nn.Linear) and m.fc1.weight.shape == (8, 4)
    assert m.num_parameters() == 8 * 4 + 8 + 3 * 8 + 3 + 3
    out = m(ricci.randn(2, 4))
    assert out.shape == (2, 3)
    assert m.train() is m and m.training
    m.eval()
    assert not m.training and not m.fc1.training


def test_training_step_reduces_the_loss():
    ricci.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = ricci.optim.AdamW(model.parameters(), lr=1e-2)
    x, y = ricci.randn(32, 4), ricci.randn(32, 1)
    first = None
    for _ in range(50):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.7 * first
    assert len(model) == 3 and isinstance(model[0], nn.Linear)
    opt.param_groups[0]["lr"] = 0.5
    assert opt.param_groups[0].lr == 0.5


def test_sgd_and_cross_entropy():
    w = ricci.tensor([[1.0, -1.0], [0.5, 0.5]], requires_grad=True)
    opt = ricci.optim.SGD([w], lr=0.1, momentum=0.9)
    logits = ricci.tensor([[1.0, 2.0]]) @ w
    loss = F.cross_entropy(logits, ricci.tensor([1]))
    import math
    z = [1.0 * 1 + 2.0 * 0.5, 1.0 * -1 + 2.0 * 0.5]
    want = -(z[1] - math.log(math.exp(z[0]) + math.exp(z[1])))
    assert abs(loss.item() - want) < 1e-6
    loss.backward()
    before = w.detach().clone()
    opt.step()
    assert not ricci.equal(before, w.detach())
    opt.zero_grad()
    assert w.grad is None


def test_state_dict_round_trip_and_safetensors(tmp_path):
    a, b = MLP(), MLP()
    assert not ricci.equal(a.fc1.weight, b.fc1.weight)
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert ricci.equal(a.fc1.weight, b.fc1.weight)
    path = str(tmp_path / "m.safetensors")
    a.save(path)
    c = MLP()
    c.load(path)
    assert ricci.equal(c.fc2.bias, a.fc2.bias)
    ricci.save_safetensors(str(tmp_path / "t.safetensors"), {"x": ricci.arange(4), "y": ricci.eye(2)},
                           metadata={"k": "v"})
    d = ricci.load_safetensors(str(tmp_path / "t.safetensors"))
    assert d["x"].tolist() == [0, 1, 2, 3] and d["y"].tolist() == [[1.0, 0.0], [0.0, 1.0]]
    with ricci.safe_open(str(tmp_path / "t.safetensors")) as f:
        assert f.metadata() == {"k": "v"} and sorted(f.keys()) == ["x", "y"]
    with pytest.raises(ricci.Error, match="load_state_dict|missing|Missing"):
        nn.Linear(2, 2).load_state_dict({"weight": ricci.zeros(2, 2)})


def test_layers():
    emb = nn.Embedding(10, 4)
    assert emb(ricci.tensor([[1, 2, 3]])).shape == (1, 3, 4)
    ln = nn.LayerNorm(4)
    y = ln(ricci.randn(2, 4))
    np.testing.assert_allclose(y.mean(dim=-1).detach().numpy(), [0.0, 0.0], atol=1e-5)
    d = nn.Dropout(0.5)
    d.eval()
    x = ricci.ones(100)
    assert ricci.equal(d(x), x)
    d.train()
    assert (d(x) == 0).any().item()
    assert F.softmax(ricci.zeros(2, 4), dim=-1).sum().item() == pytest.approx(2.0)
    assert F.relu(ricci.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]
    blk = nn.TransformerBlock(8, 2)
    assert blk(ricci.randn(1, 5, 8)).shape == (1, 5, 8)
