"""Regenerates golden.safetensors with the reference implementation (pip install safetensors numpy).

tests/test_safetensors.cpp hardcodes the values below and also checks that ricci, saving the same
tensors, writes this file byte for byte. Run from anywhere: python3 make_golden.py
"""
import os

import numpy as np
from safetensors import TensorSpec, serialize_file


def bits(dtype, words):
    return np.array(words, dtype=dtype)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    arrays = {
        "bool": np.array([True, False, True]),
        "u8": np.array([0, 1, 255], dtype=np.uint8),
        "i8": np.array([-128, 0, 127], dtype=np.int8),
        "i16": np.array([-32768, 1, 32767], dtype=np.int16),
        "i32": np.array([[-2147483648, 2], [3, 2147483647]], dtype=np.int32),
        "i64": np.array([-(2**63), 2**63 - 1], dtype=np.int64),
        # 1, -2.5, inf, a NaN with payload 0x201
        "f16": bits(np.uint16, [0x3C00, 0xC100, 0x7C00, 0x7E01]).view(np.float16),
        # 0, 1.5, -2, the smallest subnormal, -inf, a NaN with payload 0x123
        "f32": bits(np.uint32, [0x00000000, 0x3FC00000, 0xC0000000, 0x00000001, 0xFF800000, 0x7FC00123])
        .view(np.float32)
        .reshape(2, 3),
        # pi, -0.0, a NaN with payload 0xabc
        "f64": bits(np.uint64, [0x400921FB54442D18, 0x8000000000000000, 0x7FF8000000000ABC]).view(np.float64),
        "scalar": np.array(42.0, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    # numpy has no bfloat16: its raw bits go in through a TensorSpec. 1, -2.5, inf, a NaN payload.
    bf16 = bits(np.uint16, [0x3F80, 0xC020, 0x7F80, 0x7FC1])
    specs = {
        name: TensorSpec(dtype=a.dtype.name, shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes)
        for name, a in arrays.items()
    }
    specs["bf16"] = TensorSpec(dtype="bfloat16", shape=[4], data_ptr=bf16.ctypes.data, data_len=bf16.nbytes)
    serialize_file(specs, os.path.join(here, "golden.safetensors"), metadata={"format": "np"})


if __name__ == "__main__":
    main()
