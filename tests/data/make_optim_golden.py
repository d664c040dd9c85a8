# Regenerates tests/data/optim_golden.txt: PyTorch's parameter values after each of 5 steps of
# SGD / Adam / AdamW (also with amsgrad) on loss = 0.5 * sum(w * p^2) + sum(b * p), float64, and the clip result.
import torch

torch.set_default_dtype(torch.float64)
P0 = [[1.0, -2.0, 3.0], [0.5, -0.5, 2.0]]
W = [[1.0, 2.0, 0.5], [3.0, 1.5, 0.25]]
B = [[0.1, -0.3, 0.2], [0.0, 0.4, -0.1]]
cases = {
    "sgd": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd_damp": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, dampening=0.3),
    "adam": lambda p: torch.optim.Adam([p], lr=0.1, weight_decay=0.05),
    "adamw": lambda p: torch.optim.AdamW([p], lr=0.1),
    # beta2 = 0.5 lets exp_avg_sq fall as the gradients shrink, so its running maximum matters.
    "adam_amsgrad": lambda p: torch.optim.Adam([p], lr=0.3, betas=(0.8, 0.5), weight_decay=0.05, amsgrad=True),
    "adamw_amsgrad": lambda p: torch.optim.AdamW([p], lr=0.3, betas=(0.8, 0.5), amsgrad=True),
}
lines = []
for name, make in cases.items():
    p = torch.tensor(P0, requires_grad=True)
    w, b = torch.tensor(W), torch.tensor(B)
    opt = make(p)
    for step in range(5):
        opt.zero_grad()
        loss = 0.5 * (w * p * p).sum() + (b * p).sum()
        loss.backward()
        opt.step()
        lines.append(f"{name} {step} " + " ".join(repr(v) for v in p.detach().flatten().tolist()))
p = torch.tensor(P0, requires_grad=True)
q = torch.tensor([1.0, 2.0], requires_grad=True)
((torch.tensor(W) * p * p).sum() + (q * q * 3).sum()).backward()
total = torch.nn.utils.clip_grad_norm_([p, q], 1.5)
lines.append(f"clip_total 0 {total.item()!r}")
lines.append("clip_p 0 " + " ".join(repr(v) for v in p.grad.flatten().tolist()))
lines.append("clip_q 0 " + " ".join(repr(v) for v in q.grad.flatten().tolist()))
with open(__file__.replace("make_optim_golden.py", "optim_golden.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
