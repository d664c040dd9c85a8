"""The PyTorch peer of bench_train.cpp's BM_MlpStep: the same MLP, batch, loss and optimizer.

Prints `ms_per_step=<median>` for the thread count given as argv[1] (default 1)."""
import statistics
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512), torch.nn.ReLU(),
                            torch.nn.Linear(512, 10))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
x = torch.randn(128, 784)
y = torch.randint(0, 10, (128,))


def step():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()


for _ in range(20):
    step()
samples = []
for _ in range(5):
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 1.0:
        step()
        n += 1
    samples.append((time.perf_counter() - t0) / n * 1e3)
print(f"ms_per_step={statistics.median(samples):.3f} min={min(samples):.3f} max={max(samples):.3f}")
