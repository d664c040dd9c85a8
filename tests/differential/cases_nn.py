"""nn.functional cases: softmax, normalisation, embedding, linear, losses, attention.

Part of the table of make_golden.py; the vocabulary (randn, case, ...) is in dsl.py."""
from dsl import *  # noqa: F401,F403 (the table's vocabulary)

# -- nn.functional.
for dt in FLOATS:
    for op in ["softmax", "log_softmax"]:
        case(f"{dt}_dlast", op, [randn(3, 5, dt=dt)], dim=-1, grad=True)
        case(f"{dt}_d0", op, [randn(3, 5, dt=dt)], dim=0, grad=True)
        case(f"{dt}_transposed", op, [randn(5, 3, dt=dt).t()], dim=1)
        case(f"{dt}_large", op, [lit([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]], dt)], dim=1, grad=True)
        case(f"{dt}_inf", op, [lit([[INF, 1.0, 0.0], [-INF, -INF, -INF], [-INF, 0.0, 1.0]], dt)], dim=1)
    case(f"{dt}", "layer_norm", [randn(2, 3, 4, dt=dt), randn(4, dt=dt).reseed(1), randn(4, dt=dt).reseed(2)],
         normalized_shape=[4], grad=True)
    case(f"{dt}_two_dims", "layer_norm", [randn(2, 3, 4, dt=dt), randn(3, 4, dt=dt).reseed(1), None],
         normalized_shape=[3, 4], eps=1e-3, grad=True)
    case(f"{dt}_no_affine_transposed", "layer_norm", [randn(4, 3, dt=dt).t(), None, None], normalized_shape=[4],
         grad=True)
    case(f"{dt}_constant_rows", "layer_norm", [lit([[2.0, 2.0, 2.0], [1e4, 1e4 + 1, 1e4 + 2]], dt), None, None],
         normalized_shape=[3])
    case(f"{dt}", "rms_norm", [randn(2, 3, 4, dt=dt), randn(4, dt=dt).reseed(1)], normalized_shape=[4], grad=True)
    case(f"{dt}_eps_no_weight", "rms_norm", [randn(4, 3, dt=dt).t(), None], normalized_shape=[4], eps=1e-2,
         grad=True)
    case(f"{dt}", "embedding", [randint(0, 6, 2, 3), randn(6, 4, dt=dt)], grad=[1])
    case(f"{dt}_padding", "embedding", [lit([[0, 2, 0], [5, 2, 1]], "i64"), randn(6, 4, dt=dt)], padding_idx=0,
         grad=[1])
    case(f"{dt}_i32", "embedding", [lit([1, 1, 3], "i32"), randn(4, 2, dt=dt)])
    case(f"{dt}", "linear", [randn(2, 3, 4, dt=dt), randn(5, 4, dt=dt).reseed(1), randn(5, dt=dt).reseed(2)],
         grad=True)
    case(f"{dt}_no_bias", "linear", [randn(3, 4, dt=dt), randn(4, 5, dt=dt).reseed(1).t(), None], grad=True)
    case(f"{dt}_1d", "linear", [randn(4, dt=dt), randn(2, 4, dt=dt).reseed(1), randn(2, dt=dt).reseed(2)])
    logits, tgt = randn(5, 4, dt=dt), lit([1, 0, 3, 3, 2], "i64")
    for red in ["mean", "sum", "none"]:
        case(f"{dt}_{red}", "cross_entropy", [logits, tgt, None], reduction=red, grad=[0])
        case(f"{dt}_{red}", "nll_loss", [randn(5, 4, dt=dt), tgt, None], reduction=red, grad=[0])
        case(f"{dt}_{red}", "mse_loss", [randn(3, 4, dt=dt), randn(3, 4, dt=dt).reseed(1)], reduction=red, grad=True)
    ign = lit([1, -100, 3, 3, -100], "i64")
    case(f"{dt}_ignore_index", "cross_entropy", [logits, ign, None], grad=[0])
    case(f"{dt}_ignore_index_custom", "cross_entropy", [logits, lit([1, 2, 3, 2, 0], "i64"), None], ignore_index=2,
         grad=[0])
    case(f"{dt}_smoothing", "cross_entropy", [logits, tgt, None], label_smoothing=0.1, grad=[0])
    case(f"{dt}_smoothing_ignore", "cross_entropy", [logits, ign, None], label_smoothing=0.2, grad=[0])
    case(f"{dt}_smoothing_weight_ignore", "cross_entropy", [logits, ign, uniform(0.5, 2, 4, dt=dt)],
         label_smoothing=0.3, grad=[0])
    case(f"{dt}_smoothing_weight_sum", "cross_entropy", [logits, tgt, uniform(0.5, 2, 4, dt=dt)],
         label_smoothing=0.1, reduction="sum", grad=[0])
    case(f"{dt}_weight", "cross_entropy", [logits, tgt, uniform(0.5, 2, 4, dt=dt)], grad=[0])
    case(f"{dt}_probs", "cross_entropy", [logits, Spec("lit", [[0.1, 0.2, 0.3, 0.4]] * 5, dt), None], grad=[0])
    case(f"{dt}_probs_smoothing", "cross_entropy", [logits, Spec("lit", [[0.0, 1.0, 0.0, 0.0]] * 5, dt), None],
         label_smoothing=0.25, grad=[0])
    case(f"{dt}_probs_none", "cross_entropy", [randn(4, 5, dt=dt).t(), Spec("lit", [[0.5, 0.5, 0.0, 0.0]] * 5, dt),
                                               None], reduction="none", grad=[0])
    case(f"{dt}_spatial", "cross_entropy", [randn(2, 4, 3, dt=dt), randint(0, 4, 2, 3), None], grad=[0])
    case(f"{dt}_1d", "cross_entropy", [randn(4, dt=dt), lit(2, "i64"), None], grad=[0])
    case(f"{dt}_large_logits", "cross_entropy", [lit([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dt), lit([1, 2], "i64"),
                                                 None], grad=[0])
    case(f"{dt}_weight_ignore", "nll_loss", [randn(5, 4, dt=dt), ign, uniform(0.5, 2, 4, dt=dt)], grad=[0])
    case(f"{dt}_all_ignored", "nll_loss", [randn(2, 4, dt=dt), lit([-100, -100], "i64"), None])
    case(f"{dt}_bcast", "mse_loss", [randn(3, 4, dt=dt), randn(4, dt=dt).reseed(1)], grad=True)
    q, k, v = randn(2, 3, 4, dt=dt), randn(2, 5, 4, dt=dt).reseed(1), randn(2, 5, 3, dt=dt).reseed(2)
    sdpa = "scaled_dot_product_attention"
    case(f"{dt}", sdpa, [q, k, v, None], grad=True)
    case(f"{dt}_causal", sdpa, [randn(2, 4, 4, dt=dt), randn(2, 4, 4, dt=dt).reseed(1),
                                randn(2, 4, 3, dt=dt).reseed(2), None], is_causal=True, grad=True)
    case(f"{dt}_causal_rect", sdpa, [q, k, v, None], is_causal=True, grad=True)
    case(f"{dt}_bool_mask", sdpa, [q, k, v, Spec("lit", [[True, False, True, True, False]] * 3, "bool")], grad=True)
    case(f"{dt}_float_mask_scale", sdpa, [q, k, v, randn(3, 5, dt=dt).reseed(3)], scale=0.3, grad=True)
    case(f"{dt}_heads_bcast", sdpa, [randn(2, 2, 3, 4, dt=dt), randn(1, 2, 5, 4, dt=dt).reseed(1),
                                     randn(2, 1, 5, 4, dt=dt).reseed(2), None], grad=True)
case("from_i64_dtype", "softmax", [randint(-3, 3, 2, 4)], dim=1, dtype="float32")
case("f32_to_f64_dtype", "log_softmax", [randn(2, 4)], dim=1, dtype="float64")
case("0d", "softmax", [randn()], dim=0)
case("empty", "softmax", [randn(0, 4)], dim=1)
