#!/usr/bin/env bash
# The live differential test (ctest: differential_live). Regenerates the goldens with the installed
# PyTorch into OUT, checks that the committed goldens are what make_golden.py makes today, and runs
# test_differential against the fresh files. Exits 77 (ctest SKIP) without python3 + numpy + torch.
#   usage: run_live.sh SOURCE_DIR OUT_DIR TEST_DIFFERENTIAL_BINARY
set -u
src=$1 out=$2 bin=$3
if ! python3 -c "import numpy, torch" >/dev/null 2>&1; then
  echo "python3 with numpy and torch is not importable: skipping the live differential test"
  exit 77
fi
status=0
# Writes OUT and compares the committed files with it (stale goldens: rerun make_golden.py).
python3 "$src/tests/differential/make_golden.py" --out "$out" --check "$src/tests/data/ops_golden" || status=1
[ -f "$out/manifest.json" ] || exit 1
RICCI_GOLDEN_DIR="$out" "$bin" --gtest_brief=1 || status=1
exit $status
