#!/usr/bin/env python3
"""Golden files for tests/test_differential.cpp: ricci's CPU ops against PyTorch.

    python3 tests/differential/make_golden.py                   # rewrite tests/data/ops_golden/
    python3 tests/differential/make_golden.py --out DIR         # write elsewhere
    python3 tests/differential/make_golden.py --check DIR       # is DIR what this script makes?

Writes DIR/ops.safetensors (inputs, expected outputs <case>.out<j>, input gradients
<case>.grad<i>) and DIR/manifest.json (one case a line: op, input names, views, attrs, number of
outputs, gradient inputs, tolerances). The table of cases is cases_*.py (in the words of dsl.py);
torch_ops.py says what each op name means in PyTorch, and the C++ harness maps the same names to
ricci. Inputs are drawn from generators seeded by their specs, so the output is deterministic:
rerun after editing a case and commit both files.

A case that shows a ricci bug stays in the table with known=<one-line reason>: the C++ test then
reports it as skipped with that reason until the bug is fixed (see tests/differential/README.md).
"""
import argparse
import json
import math
import os
import sys
import tempfile
import warnings
from collections import Counter

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import apply_view, load_safetensors, save_safetensors, tensor_key  # noqa: E402
from torch_ops import REF  # noqa: E402
from dsl import CASES, NONFINITE  # noqa: E402
# The table, family by family; each module appends its cases to CASES, in this order.
import cases_elementwise, cases_reduce, cases_linalg_index, cases_nn, cases_edges, cases_defaults  # noqa: E402,F401
import cases_missing_math  # noqa: E402,F401
import cases_missing_struct  # noqa: E402,F401
import cases_python_pkg  # noqa: E402,F401
import cases_gpt_step  # noqa: E402,F401


# ---- building ------------------------------------------------------------------------------------
def float_dtype(t):
    return t is not None and t.is_floating_point()


def upstream(o):
    """The fixed upstream gradient of an output: ((7k) mod 11 - 5) / 4 at flat index k. Exact in
    every float dtype, so the C++ side makes the same tensor instead of reading it from the file."""
    k = torch.arange(o.numel(), dtype=torch.int64)
    return (((k * 7) % 11 - 5).to(torch.float64) / 4).reshape(o.shape).to(o.dtype)


def build(c):
    """Runs one case through PyTorch: {name: tensor} to store and the manifest entry."""
    name, specs, a = c["name"], c["inputs"], c["attrs"]
    bases = [None if s is None else s.base(i) for i, s in enumerate(specs)]
    grad_pos = [i for i, b in enumerate(bases) if float_dtype(b)] if c["grad"] is True else list(c["grad"] or [])
    leaves = [b.clone().requires_grad_() if i in grad_pos else b for i, b in enumerate(bases)]
    viewed = []
    for s, leaf in zip(specs, leaves):
        t = leaf
        for v in ([] if s is None else s.views):
            t = apply_view(t, v)
        viewed.append(t)
    # JSON has no NaN/inf: the manifest spells them "nan", "inf", "-inf" (so may the table).
    ref_attrs = {k: float(v) if v in NONFINITE else v for k, v in a.items()}
    a = {k: str(v) if isinstance(v, float) and not math.isfinite(v) else v for k, v in a.items()}
    outs = REF[c["op"]](viewed, ref_attrs)

    store, entry = {}, {"name": name, "op": c["op"]}
    entry["inputs"] = []
    for b in bases:
        if b is None:
            entry["inputs"].append(None)
        else:
            key = tensor_key(b)
            store[key] = b
            entry["inputs"].append(key)
    if any(s is not None and s.views for s in specs):
        entry["views"] = [[] if s is None else s.views for s in specs]
    if a:
        entry["attrs"] = a
    # Outputs are stored as <name>.out<j>, the gradient of input i as <name>.grad<i>.
    entry["outputs"] = len(outs)
    for j, o in enumerate(outs):
        store[f"{name}.out{j}"] = o.detach().clone()
    if grad_pos:
        loss = 0
        for o in outs:
            if o.is_floating_point() and o.requires_grad:
                loss = loss + (o * upstream(o)).sum()
        loss.backward()
        entry["grads"] = grad_pos
        for i in grad_pos:
            store[f"{name}.grad{i}"] = leaves[i].grad if leaves[i].grad is not None else torch.zeros_like(bases[i])
    for k in ("rtol", "atol"):
        if c[k] is not None:
            entry[k] = c[k]
    if c["known"]:
        entry["known_divergence"] = c["known"]
    return store, entry


def generate(out_dir):
    warnings.filterwarnings("ignore")  # PyTorch warns about var with n <= correction: that is a case
    torch.set_num_threads(1)  # one summation order, whatever the machine
    dup = {n for n, k in Counter(c["name"] for c in CASES).items() if k > 1}
    assert not dup, f"duplicate case names: {sorted(dup)}"
    unknown = {c["op"] for c in CASES} - set(REF)
    assert not unknown, f"ops without a PyTorch reference: {sorted(unknown)}"
    tensors, entries = {}, []
    for c in CASES:
        try:
            store, entry = build(c)
        except Exception as e:
            raise RuntimeError(f"case {c['name']}: {e}") from e
        tensors.update(store)
        entries.append(entry)
    os.makedirs(out_dir, exist_ok=True)
    save_safetensors(os.path.join(out_dir, "ops.safetensors"), tensors)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        f.write('{"generator": "tests/differential/make_golden.py", "torch": "%s", "cases": [\n' %
                torch.__version__.split("+")[0])
        f.write(",\n".join(json.dumps(e, separators=(", ", ": ")) for e in entries))
        f.write("\n]}\n")
    return len(entries), len(tensors)


def bf16_bits_to_f64(a):
    """bfloat16 values stored as their raw int16 bits (golden_io) as float64."""
    import numpy as np
    bits = np.asarray(a).astype(np.uint16).astype(np.uint32) << 16
    return bits.view(np.float32).astype(np.float64)


def check(golden_dir, fresh_dir=None):
    """Compares golden_dir with a fresh generation (into fresh_dir, else a temporary dir): the case
    list must match exactly (manifest minus the torch version), inputs byte for byte, expected
    values closely (another PyTorch build may round the last bit differently)."""
    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = fresh_dir or tmp
        generate(fresh_dir)
        fresh_m = json.load(open(os.path.join(fresh_dir, "manifest.json")))
        fresh_t = load_safetensors(os.path.join(fresh_dir, "ops.safetensors"))
    old_m = json.load(open(os.path.join(golden_dir, "manifest.json")))
    old_t = load_safetensors(os.path.join(golden_dir, "ops.safetensors"))
    problems = []
    if fresh_m["cases"] != old_m["cases"]:
        old_names = {c["name"]: c for c in old_m["cases"]}
        new_names = {c["name"]: c for c in fresh_m["cases"]}
        problems.append(f"manifest differs: {len(set(new_names) - set(old_names))} new cases, "
                        f"{len(set(old_names) - set(new_names))} removed, "
                        f"{sum(1 for n in new_names if n in old_names and new_names[n] != old_names[n])} changed")
    if set(fresh_t) != set(old_t):
        problems.append(f"tensor names differ ({len(set(fresh_t) ^ set(old_t))} names)")
    for n in sorted(set(fresh_t) & set(old_t)):
        (d1, s1, a1), (d2, s2, a2) = fresh_t[n], old_t[n]
        if d1 != d2 or s1 != s2:
            problems.append(f"{n}: {d2}{s2} in the golden file, {d1}{s1} fresh")
        elif n.startswith("x_") or d1 in ("BOOL", "I64", "I32", "I16", "I8", "U8"):
            if a1.tobytes() != a2.tobytes():
                problems.append(f"{n}: values differ")
        else:
            # Expected values within a unit in the last place of their format: PyTorch rounds
            # float16/bfloat16 results differently on different CPUs (its AVX-512 kernels convert
            # and compute in other steps than its AVX2 ones), and another build may round float32's
            # last bit differently.
            rtol = {"BF16": 2.0 ** -7, "F16": 2.0 ** -10}.get(d1, 1e-5)
            f1, f2 = (bf16_bits_to_f64(a1), bf16_bits_to_f64(a2)) if d1 == "BF16" else (a1, a2)
            if not np.allclose(np.asarray(f1, np.float64), np.asarray(f2, np.float64), rtol=rtol, atol=1e-6, equal_nan=True):
                problems.append(f"{n}: values differ beyond rtol {rtol:.3g}")
    for p in problems[:20]:
        print("stale golden:", p)
    if problems:
        print(f"{golden_dir} is out of date ({len(problems)} problems): run "
              f"python3 tests/differential/make_golden.py and commit tests/data/ops_golden/")
        return 1
    print(f"{golden_dir} matches make_golden.py ({len(fresh_m['cases'])} cases)")
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="where to write (default tests/data/ops_golden)")
    p.add_argument("--check", metavar="DIR", help="compare DIR with a fresh generation (written to --out when "
                   "given, else to a temporary directory); exit 1 when they differ")
    args = p.parse_args()
    if args.check:
        sys.exit(check(args.check, args.out))
    args.out = args.out or os.path.join(here, "..", "data", "ops_golden")
    n, t = generate(args.out)
    print(f"wrote {n} cases, {t} tensors to {os.path.normpath(args.out)}")


if __name__ == "__main__":
    main()
