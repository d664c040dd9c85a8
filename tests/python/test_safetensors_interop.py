"""Interop with the reference safetensors implementation (optional).

Python writes a file, ricci reads it and writes one back (the gtest SafetensorsInterop.PythonRoundTrip
in tests/test_safetensors.cpp, driven through RICCI_SAFETENSORS_INTEROP_DIR), Python reads that.
Skips when the `safetensors`/`numpy` packages or the built test_safetensors binary are missing.
The binary is found through $RICCI_TEST_SAFETENSORS_BIN, else the newest build*/tests/test_safetensors.
"""
import glob
import os
import subprocess

import pytest

np = pytest.importorskip("numpy")
safetensors = pytest.importorskip("safetensors")
from safetensors import TensorSpec, deserialize, serialize_file  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = 5
NUMPY_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def find_binary():
    explicit = os.environ.get("RICCI_TEST_SAFETENSORS_BIN")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    found = glob.glob(os.path.join(REPO, "build*", "tests", "test_safetensors"))
    return max(found, key=os.path.getmtime) if found else None


def expected(dtype):
    values = np.arange(N)
    return values % 2 == 1 if dtype == "bool" else values.astype(dtype)


def test_python_to_ricci_to_python(tmp_path):
    binary = find_binary()
    if binary is None:
        pytest.skip("test_safetensors is not built (set RICCI_TEST_SAFETENSORS_BIN)")

    arrays = {name: expected(name) for name in NUMPY_DTYPES}
    bf16 = (np.arange(N, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)  # exact for small ints
    specs = {
        name: TensorSpec(dtype=a.dtype.name, shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes)
        for name, a in arrays.items()
    }
    specs["bfloat16"] = TensorSpec(dtype="bfloat16", shape=[N], data_ptr=bf16.ctypes.data, data_len=bf16.nbytes)
    serialize_file(specs, str(tmp_path / "from_python.safetensors"), metadata={"writer": "python"})

    env = dict(os.environ, RICCI_SAFETENSORS_INTEROP_DIR=str(tmp_path))
    run = subprocess.run(
        [binary, "--gtest_filter=SafetensorsInterop.PythonRoundTrip"], env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[  PASSED  ] 1 test" in run.stdout, run.stdout

    written = (tmp_path / "from_ricci.safetensors").read_bytes()
    with safetensors.safe_open(str(tmp_path / "from_ricci.safetensors"), framework="numpy") as f:
        assert f.metadata() == {"writer": "ricci"}
    tensors = dict(deserialize(written))
    assert sorted(tensors) == sorted(list(arrays) + ["bfloat16"])
    for name, a in arrays.items():
        t = tensors[name]
        assert t["shape"] == [N]
        got = np.frombuffer(bytes(t["data"]), dtype=a.dtype)
        np.testing.assert_array_equal(got, a)
    assert bytes(tensors["bfloat16"]["data"]) == bf16.tobytes()
