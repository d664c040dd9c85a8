"""Plumbing for make_golden.py: input specs, the case record, and safetensors reading/writing.

Kept apart from the case table so that make_golden.py reads as a list of cases.
"""
import hashlib
import json
import struct
import zlib

import numpy as np
import torch

DTYPES = {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16, "bf16": torch.bfloat16,
          "i64": torch.int64, "i32": torch.int32, "i16": torch.int16, "i8": torch.int8,
          "u8": torch.uint8, "bool": torch.bool}
ST_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
            torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
            torch.uint8: "U8", torch.bool: "BOOL"}
ST_NUMPY = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": np.int16, "I64": np.int64,
            "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


class Spec:
    """How to make one input: a base tensor drawn from a generator seeded by the spec itself (so
    equal specs give equal tensors and share one entry in the file), then views applied to it
    (so the op sees a non-contiguous or expanded tensor; the file holds the contiguous base)."""

    def __init__(self, kind, args, dt, views=(), seed=0):
        self.kind, self.args, self.dt, self.views, self.seed = kind, args, dt, list(views), seed

    def base(self, position):
        g = torch.Generator().manual_seed(zlib.crc32(repr((self.kind, self.args, self.dt, self.seed,
                                                           position)).encode()))
        dtype = DTYPES[self.dt]
        if self.kind == "randn":
            return torch.randn(tuple(self.args), generator=g, dtype=torch.float64).to(dtype)
        if self.kind == "uniform":
            lo, hi, shape = self.args
            return (torch.rand(tuple(shape), generator=g, dtype=torch.float64) * (hi - lo) + lo).to(dtype)
        if self.kind == "randint":
            lo, hi, shape = self.args
            return torch.randint(lo, hi, shape, generator=g, dtype=torch.int64).to(dtype)
        if self.kind == "perm":  # a random permutation of range(n) along the last dim of shape
            shape = self.args
            flat = torch.stack([torch.randperm(shape[-1], generator=g) for _ in range(int(np.prod(shape[:-1])))])
            return flat.reshape(shape).to(dtype)
        if self.kind == "randn_special":  # randn with every 7th element (from 3) a special value
            shape, specials = self.args
            t = torch.randn(tuple(shape), generator=g, dtype=torch.float64).reshape(-1)
            for n, k in enumerate(range(3, t.numel(), 7)):
                t[k] = specials[n % len(specials)]
            return t.reshape(shape).to(dtype)
        if self.kind == "lit":
            return torch.tensor(self.args, dtype=dtype)
        raise ValueError(self.kind)

    def _with(self, view):
        return Spec(self.kind, self.args, self.dt, self.views + [view], self.seed)

    # Views, named as in the C++ harness (apply_view in tests/test_differential.cpp).
    def t(self, d0=0, d1=1):
        return self._with(["transpose", d0, d1])

    def permute(self, *dims):
        return self._with(["permute", list(dims)])

    def step(self, dim, step, start=0, end=None):
        return self._with(["slice", dim, start, end, step])

    def expand(self, *shape):
        return self._with(["expand", list(shape)])

    def unsqueeze(self, dim):
        return self._with(["unsqueeze", dim])

    def reseed(self, seed):  # a different draw of the same shape
        return Spec(self.kind, self.args, self.dt, self.views, seed)


def apply_view(t, v):
    if v[0] == "transpose":
        return t.transpose(v[1], v[2])
    if v[0] == "permute":
        return t.permute(*v[1])
    if v[0] == "slice":
        _, dim, start, end, step = v
        idx = [slice(None)] * t.dim()
        idx[dim] = slice(start, end, step)
        return t[tuple(idx)]
    if v[0] == "expand":
        return t.expand(*v[1])
    if v[0] == "unsqueeze":
        return t.unsqueeze(v[1])
    raise ValueError(v)


def tensor_key(t):
    """A content address for a base input: equal tensors are stored once."""
    h = hashlib.sha1(repr((ST_NAMES[t.dtype], list(t.shape))).encode() + to_bytes(t)).hexdigest()
    return "x_" + h[:10]


def to_bytes(t):
    t = t.detach().contiguous().reshape(-1)
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def save_safetensors(path, tensors):
    """Writes {name: tensor} as the reference writer does: largest alignment first, then by name;
    header space-padded to a multiple of 8 so every tensor starts aligned."""
    names = sorted(tensors, key=lambda n: (-tensors[n].element_size(), n))
    header, blobs, offset = {}, [], 0
    for n in names:
        t = tensors[n]
        b = to_bytes(t)
        header[n] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_safetensors(path):
    """{name: (dtype string, shape, numpy array)}; BF16 comes back as its raw int16 bits."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[8 + n + b:8 + n + end], dtype=ST_NUMPY[e["dtype"]])
        out[name] = (e["dtype"], e["shape"], arr)
    return out
