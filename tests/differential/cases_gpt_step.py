"""Cases for the paths a GPT training step runs (issue 16): softmax rows masked with -inf long enough
for the vector path (whole vectors and a tail), causal attention over 4-D heads of 16 and 64
positions, and gelu's gradient over a vector-length run with values where erf and exp leave their
vector ranges (the fused backward).

Part of the table of make_golden.py; the vocabulary (randn, case, ...) is in dsl.py."""
import math

from dsl import *  # noqa: F401,F403 (the table's vocabulary)


def causal_rows(n, dt):
    """A (n, n) literal: row i holds finite scores up to column i and -inf after it."""
    rows = [[math.sin(1.7 * i + 0.3 * j) * 3 if j <= i else -INF for j in range(n)] for i in range(n)]
    return lit(rows, dt)


for dt in ["f32", "f64"]:
    for n in [64, 13]:
        for op in ["softmax", "log_softmax"]:
            case(f"gpt_{dt}_causal_{n}", op, [causal_rows(n, dt)], dim=1, grad=True)
    for T in [16, 64]:
        case(f"gpt_{dt}_causal_heads_{T}", "scaled_dot_product_attention",
             [randn(2, 2, T, 8, dt=dt), randn(2, 2, T, 8, dt=dt).reseed(1), randn(2, 2, T, 4, dt=dt).reseed(2), None],
             is_causal=True, grad=True)
    case(f"gpt_{dt}_vector_run", "gelu", [uniform(-16, 16, 4, 259, dt=dt)], grad=True)
    case(f"gpt_{dt}_vector_run_transposed", "gelu", [uniform(-6, 6, 259, 4, dt=dt).t()], grad=True)
