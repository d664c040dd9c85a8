#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (small, committed; libFuzzer grows its own copy).

Run from the repository root: python3 fuzz/corpus/make_seeds.py
"""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def st_image(header, data=b""):
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def write(target, name, blob):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(blob)


def safetensors_seeds():
    golden = os.path.join(ROOT, "tests", "data", "safetensors", "golden.safetensors")
    seeds = {
        "golden.safetensors": open(golden, "rb").read(),
        "empty_header": st_image({}),
        "f32_2x2": st_image({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, struct.pack("<4f", 1, 2, 3, 4)),
        "unaligned_f64": st_image({"__metadata__": {"k": "v"}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                                   "b": {"dtype": "F64", "shape": [1], "data_offsets": [1, 9]}}, b"\x07" + struct.pack("<d", 2.5)),
        "bool_noncanonical": st_image({"m": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}}, b"\x00\x01\x02"),
        "bf16_i16_scalar": st_image({"h": {"dtype": "BF16", "shape": [], "data_offsets": [0, 2]},
                                     "i": {"dtype": "I16", "shape": [2], "data_offsets": [2, 6]}}, b"\x80\x3f\x01\x00\xff\xff"),
        "huge_empty_shape": st_image({"z": {"dtype": "F32", "shape": [0, 4294967296, 4294967296], "data_offsets": [0, 0]}}),
        "unknown_dtype": st_image({"u": {"dtype": "U32", "shape": [1], "data_offsets": [0, 4]}}, b"\x01\x00\x00\x00"),
    }
    for target in ("fuzz_safetensors", "fuzz_safetensors_load"):
        for name, blob in seeds.items():
            write(target, name, blob)


# fuzz_einsum's decoding (fuzz/fuzz_einsum.cpp): [nops-1] [dtype] then per operand [rank] [layout]
# [size byte per dim], then the equation as indices into its alphabet.
EINSUM_ALPHABET = "abcdijkAZ,,,..-->>ij,k...->a #7\x01"


def eq_bytes(eq):
    return bytes(EINSUM_ALPHABET.index(c) for c in eq)


def einsum_seeds():
    f64 = 1
    seeds = {
        "matmul": bytes([1, f64, 2, 0, 2, 3, 2, 0, 3, 4]) + eq_bytes("ij,jk->ik"),
        "batched": bytes([1, 0, 3, 0, 2, 2, 3, 3, 0, 2, 3, 4]) + eq_bytes("bij,bjk->bik".replace("b", "a")),
        "trace": bytes([0, f64, 2, 0, 3, 3]) + eq_bytes("ii->"),
        "diagonal": bytes([0, f64, 2, 0, 3, 3]) + eq_bytes("ii->i"),
        "outer": bytes([1, f64, 1, 0, 4, 1, 0, 5]) + eq_bytes("i,j->ij"),
        "ellipsis": bytes([1, f64, 3, 1, 2, 3, 4, 2, 2, 4, 5]) + eq_bytes("...ij,...jk"),
        "implicit": bytes([2, f64, 2, 0, 2, 3, 2, 0, 3, 4, 1, 0, 4]) + eq_bytes("ij,jk,k"),
        "broadcast_huge": bytes([1, 0, 1, 0, 224, 1, 0, 224]) + eq_bytes("i,j->ij"),
        "four_ops": bytes([3, f64, 1, 0, 2, 1, 0, 3, 1, 0, 4, 1, 0, 5]) + eq_bytes("a,b,c,d->abcd"),
        "bad_char": bytes([0, 0, 1, 0, 3]) + eq_bytes("i#->i"),
    }
    for name, blob in seeds.items():
        write("fuzz_einsum", name, blob)


# fuzz_views's decoding (fuzz/fuzz_views.cpp): [dtype] [rank] [size per dim] [layout] then ops:
# [op % 18] [arguments]; an argument byte b < 224 is (b % 16) - 4, else a special value.
def arg(v):
    return (v + 4) % 16


def views_seeds():
    seeds = {
        "view_infer": bytes([1, 2, 2, 3, 0, 0, 2, arg(-1), arg(2)]),
        "narrow_huge": bytes([0, 1, 5, 0, 3, arg(0), arg(1), 225]),
        "as_strided": bytes([0, 1, 5, 0, 6, 2, arg(2), arg(2), arg(1), arg(1), 0]),
        "as_strided_overflow": bytes([2, 1, 5, 0, 6, 2, arg(3), arg(2), 230, arg(1), 0]),
        "expand_unfold": bytes([1, 2, 1, 4, 4, 7, 3, arg(-1), arg(4), arg(4), 8, arg(1), arg(2), arg(1)]),
        "slice_step": bytes([1, 1, 5, 2, 4, arg(0), 7, arg(1), arg(5), 227]),
        "permute_flatten": bytes([3, 3, 2, 3, 4, 1, 2, 3, arg(2), arg(0), arg(1), 10, arg(0), arg(-1)]),
        "diagonal_unflatten": bytes([1, 2, 4, 4, 0, 11, 224, arg(0), arg(1), 9, arg(0), 2, arg(2), arg(-1)]),
        # select on an empty view whose index * stride overflows int64 (a crash fuzz_views found).
        "select_offset_overflow": bytes.fromhex("ff2affffffffffffff4103a8ff245cffffffffffffdd23"),
    }
    for name, blob in seeds.items():
        write("fuzz_views", name, blob)


if __name__ == "__main__":
    for t in ("fuzz_safetensors", "fuzz_safetensors_load", "fuzz_einsum", "fuzz_views"):
        shutil.rmtree(os.path.join(HERE, t), ignore_errors=True)
    safetensors_seeds()
    einsum_seeds()
    views_seeds()
