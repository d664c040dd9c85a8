"""Optimizer state_dict / load_state_dict and the LR schedulers from Python: resuming from a saved
state continues exactly as if training had not stopped; the layout is PyTorch's."""
import math

import pytest

ricci = pytest.importorskip("ricci")
np = pytest.importorskip("numpy")


def make_problem(seed=0):
    ricci.manual_seed(seed)
    w = ricci.randn(4, 3, dtype=ricci.float64, requires_grad=True)
    b = ricci.zeros(3, dtype=ricci.float64, requires_grad=True)
    x = ricci.randn(8, 4, dtype=ricci.float64)
    y = ricci.randn(8, 3, dtype=ricci.float64)
    return w, b, x, y


def train(opt, params, x, y, steps, sched=None):
    w, b = params
    for _ in range(steps):
        opt.zero_grad()
        ((x @ w + b - y) ** 2).mean().backward()
        opt.step()
        if sched is not None:
            sched.step()


def copy_state(sd):
    return {"state": {k: {n: (t.clone() if isinstance(t, ricci.Tensor) else t) for n, t in v.items()}
                      for k, v in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]], "optimizer": sd["optimizer"]}


@pytest.mark.parametrize("make", [
    lambda p: ricci.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    lambda p: ricci.optim.Adam(p, lr=0.01, amsgrad=True),
    lambda p: ricci.optim.AdamW(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
])
def test_resume_from_state_dict_matches_uninterrupted_training(make):
    w, b, x, y = make_problem()
    ref = make([w, b])
    train(ref, (w, b), x, y, 10)
    w_ref, b_ref = w.detach().clone(), b.detach().clone()

    w2, b2, x, y = make_problem()
    opt = make([w2, b2])
    train(opt, (w2, b2), x, y, 4)
    saved = copy_state(opt.state_dict())
    saved_w, saved_b = w2.detach().clone(), b2.detach().clone()

    # a fresh optimizer over fresh parameters with the saved values
    w3 = saved_w.clone().requires_grad_()
    b3 = saved_b.clone().requires_grad_()
    opt3 = make([w3, b3])
    result = opt3.load_state_dict(saved)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    train(opt3, (w3, b3), x, y, 6)
    np.testing.assert_allclose(w3.detach().numpy(), w_ref.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b3.detach().numpy(), b_ref.numpy(), rtol=1e-12, atol=1e-12)


def test_state_dict_layout_is_pytorchs():
    w, b, x, y = make_problem()
    opt = ricci.optim.Adam([w, b], lr=0.01, betas=(0.85, 0.98))
    train(opt, (w, b), x, y, 2)
    sd = opt.state_dict()
    assert sd["optimizer"] == "Adam"
    assert sorted(sd["state"]) == [0, 1]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][0]["step"].item() == 2.0 and sd["state"][0]["exp_avg"].shape == (4, 3)
    g = sd["param_groups"][0]
    assert g["betas"] == (0.85, 0.98) and g["lr"] == 0.01 and g["amsgrad"] is False and g["params"] == [0, 1]
    torch = pytest.importorskip("torch")
    w4, b4, x, y = make_problem()
    tw = torch.nn.Parameter(torch.from_dlpack(w4.detach().clone()))
    tb = torch.nn.Parameter(torch.from_dlpack(b4.detach().clone()))
    topt = torch.optim.Adam([tw, tb], lr=0.01, betas=(0.85, 0.98))
    tx, ty = torch.from_dlpack(x), torch.from_dlpack(y)
    opt4 = ricci.optim.Adam([w4, b4], lr=0.01, betas=(0.85, 0.98))
    for _ in range(2):
        topt.zero_grad()
        ((tx @ tw + tb - ty) ** 2).mean().backward()
        topt.step()
    train(opt4, (w4, b4), x, y, 2)
    tsd, rsd = topt.state_dict(), opt4.state_dict()
    assert set(tsd["state"][0]) == set(rsd["state"][0])
    assert tsd["param_groups"][0]["params"] == rsd["param_groups"][0]["params"]
    for name in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_allclose(tsd["state"][0][name].numpy(), rsd["state"][0][name].numpy(), rtol=1e-10)
    np.testing.assert_allclose(tw.detach().numpy(), w4.detach().numpy(), rtol=1e-10)


def test_load_state_dict_errors_list_the_problems():
    w, b, x, y = make_problem()
    opt = ricci.optim.Adam([w, b])
    train(opt, (w, b), x, y, 1)
    sd = copy_state(opt.state_dict())
    sgd = ricci.optim.SGD([w, b], momentum=0.9)
    with pytest.raises(ricci.Error, match="written by Adam"):
        sgd.load_state_dict(sd)
    bad = copy_state(sd)
    bad["state"][0]["exp_avg"] = ricci.zeros(2, dtype=ricci.float64)
    with pytest.raises(ricci.Error, match="exp_avg"):
        ricci.optim.Adam([w, b]).load_state_dict(bad)
    with pytest.raises(ricci.ValueError, match="unexpected key 'foo'"):
        ricci.optim.Adam([w, b]).load_state_dict({**sd, "foo": 1})
    lenient = ricci.optim.SGD([w, b], momentum=0.9).load_state_dict(sd, strict=False)
    assert len(lenient.unexpected_keys) > 0


def test_step_lr_and_warmup_cosine():
    w = ricci.zeros(2, requires_grad=True)
    opt = ricci.optim.SGD([w], lr=1.0)
    sched = ricci.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert sched.get_last_lr() == [0.125] and sched.last_epoch == 6

    opt2 = ricci.optim.AdamW([w], lr=0.1)
    wc = ricci.optim.WarmupCosine(opt2, warmup_steps=2, total_steps=6, min_lr=0.01)
    seen = []
    for _ in range(8):
        seen.append(opt2.param_groups[0]["lr"])
        wc.step()
    expected = [0.1 * (s + 1) / 2 if s < 2 else 0.01 + 0.09 * 0.5 * (1 + math.cos(math.pi * (s - 2) / 4)) if s <= 6
                else 0.01 for s in range(8)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12)


def test_scheduler_state_dict_round_trip():
    w = ricci.zeros(2, requires_grad=True)
    opt = ricci.optim.SGD([w], lr=1.0)
    sched = ricci.optim.StepLR(opt, step_size=3, gamma=0.1)
    for _ in range(4):
        sched.step()
    sd = sched.state_dict()
    assert sd == {"scheduler": "StepLR", "last_epoch": 4, "base_lrs": [1.0], "gamma": 0.1, "step_size": 3.0}
    opt_b = ricci.optim.SGD([w], lr=1.0)
    resumed = ricci.optim.StepLR(opt_b, step_size=1, gamma=0.5)
    resumed.load_state_dict(sd)
    opt_b.load_state_dict(opt.state_dict())
    resumed.step()
    sched.step()
    assert resumed.get_last_lr() == sched.get_last_lr() and resumed.last_epoch == 5
    with pytest.raises(ricci.ValueError, match="written by StepLR"):
        ricci.optim.WarmupCosine(opt_b, 1, 10).load_state_dict(sd)


def test_scheduler_keeps_its_optimizer_alive():
    import gc
    w = ricci.zeros(2, requires_grad=True)
    sched = ricci.optim.StepLR(ricci.optim.SGD([w], lr=2.0), step_size=1, gamma=0.5)
    gc.collect()
    sched.step()
    assert sched.get_last_lr() == [1.0]


def test_clip_grad_norm():
    w = ricci.tensor([3.0, 4.0], requires_grad=True)
    (w * ricci.tensor([3.0, 4.0])).sum().backward()
    total = ricci.optim.clip_grad_norm_([w], max_norm=1.0)
    assert total == pytest.approx(5.0)
    assert w.grad.norm().item() == pytest.approx(1.0, rel=1e-5)
