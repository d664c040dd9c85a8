#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, libricci instrumented) and runs each for a
# fixed time, seeded from fuzz/corpus/<target>/. Prints the executions of each target; exits
# non-zero when a target crashes, trips a sanitizer or breaks an invariant (the input is kept in
# <build>/fuzz-run/<target>/artifacts/ to replay: <build>/fuzz/<target> <file>).
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   which targets (default: all four)
#   BUILD_DIR      build tree (default build-fuzz)
#   FUZZ_INSTALL_ONLY=1  install clang and libFuzzer if missing, then exit (0: they are usable)
#   FUZZ_REUSE_BUILD=1   BUILD_DIR is already configured with clang, ASan + UBSan and
#                  RICCI_BUILD_FUZZ=ON (.ci/run's sanitizer build): only build the targets there
# Installs clang and its libFuzzer runtime when missing (Debian: clang, libclang-rt-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
build=${BUILD_DIR:-build-fuzz}
targets=(${FUZZ_TARGETS:-fuzz_safetensors fuzz_safetensors_load fuzz_einsum fuzz_views})

have_libfuzzer() {
  command -v clang++ >/dev/null 2>&1 || return 1
  local rt
  rt=$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)
  [[ -f "$rt" ]] && return 0
  # Older layouts: the runtime sits in the resource directory under lib/linux.
  ls "$(clang++ -print-resource-dir 2>/dev/null)"/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1
}
if ! have_libfuzzer; then
  echo "installing clang and the libFuzzer runtime"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang libclang-rt-dev >/dev/null
fi
if [[ "${FUZZ_INSTALL_ONLY:-0}" == 1 ]]; then
  have_libfuzzer
  exit
fi
bash scripts/install-deps.sh

start=$(date +%s)
[[ "${FUZZ_REUSE_BUILD:-0}" == 1 ]] || CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g" \
  -DRICCI_SANITIZE=address,undefined -DRICCI_BUILD_FUZZ=ON -DRICCI_BUILD_TESTS=OFF -DRICCI_BUILD_BENCH=OFF \
  -DRICCI_BUILD_EXAMPLES=OFF -DRICCI_CUDA=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}"
echo "== fuzz build: $(( $(date +%s) - start )) s"

failed=()
for t in "${targets[@]}"; do
  run="$build/fuzz-run/$t"
  rm -rf "$run"
  mkdir -p "$run/corpus" "$run/artifacts"
  cp fuzz/corpus/"$t"/* "$run/corpus/"  # the committed seeds stay as they are
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096 -max_len=4096
        -artifact_prefix="$run/artifacts/")
  [[ $t == fuzz_safetensors* ]] && args+=(-dict=fuzz/safetensors.dict)
  status=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    TMPDIR="$run" "$build/fuzz/$t" "${args[@]}" "$run/corpus" >"$run/log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$run/log" | tail -1 || true)
  echo "== $t: ${execs:-?} executions in ${seconds} s (${cov:-cov: ?}), exit status $status"
  if [[ $status -ne 0 ]]; then
    failed+=("$t")
    tail -n 60 "$run/log"
    ls "$run/artifacts"
  fi
done
if ((${#failed[@]})); then
  echo "== fuzzing found crashes in: ${failed[*]}"
  exit 1
fi
echo "== fuzzing: no crashes"
