# Sourced by the bench/run_*.sh scripts: one thread everywhere, the build dir, the ricci
# benchmark target built, and the CPU line every result is printed with.
#   bench_setup <target> <build dir or "">   sets ROOT, BUILD, PY, MIN_TIME
bench_setup() {
  local target="$1"
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  BUILD="${2:-$ROOT/build-bench}"
  PY="${PYTHON:-python3}"
  MIN_TIME="${RICCI_BENCH_MIN_TIME:-0.2}"
  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RICCI_NUM_THREADS=1
  if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRICCI_CUDA=OFF \
      -DRICCI_BUILD_TESTS=OFF -DRICCI_BUILD_EXAMPLES=OFF -DRICCI_BUILD_BENCH=ON >/dev/null
  fi
  cmake --build "$BUILD" -j2 --target "$target" >"$BUILD/$target.build.log" 2>&1 ||
    { tail -30 "$BUILD/$target.build.log" >&2; echo "$target did not build" >&2; exit 1; }
  echo "# cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(getconf _NPROCESSORS_ONLN) cores;" \
    "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|fma|f16c|bf16|amx)|bf16' | sort -u | tr '\n' ' ')"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}
