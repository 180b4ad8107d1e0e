#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run) and as README documents it:
#
#   bash tests/run_all.sh
#
# Stages, in order, stopping at the first failure:
#   host    gcc build (default options) in build/host, ctest
#   asan    gcc ASan+UBSan build (-DTINYIMAPD_SANITIZE=ON) in build/asan, ctest
#   cross   aarch64, armhf, s390x (big-endian) builds in build/<arch> with
#           toolchains/*.cmake; ctest runs the binaries under qemu-user
#   fuzz    clang-14 libFuzzer build in build/fuzz; every fuzzer runs for
#           FUZZ_SECONDS; any crash, leak, timeout or sanitizer report fails
#   report  size (stripped) and NEEDED of tinyimapd for host and aarch64, no
#           libstdc++.so among them; core references no allocator/exceptions
#   package the .deb (cpack, build/deb, RelWithDebInfo): installed on this
#           machine, served from its files, purged (tests/package/test_deb.sh;
#           needs root)
#   system  a real boot under qemu-system-aarch64: the aarch64 server (from
#           build/aarch64, built if missing) in an initramfs around Debian's
#           arm64 kernel, serving IMAP to the host (tests/system/boot_aarch64.sh)
#
# Environment (all optional; the default runs everything):
#   SKIP_HOST=1 SKIP_ASAN=1 SKIP_CROSS=1 SKIP_FUZZ=1 SKIP_REPORT=1
#   SKIP_PACKAGE=1 SKIP_SYSTEM=1
#   CROSS_TARGETS="aarch64 armhf s390x"   subset of cross targets to run
#   FUZZ_SECONDS=60                       run time of each fuzzer
#   JOBS=<nproc>                          build/test parallelism
# The report stage covers build/host and build/aarch64 when this run built them.
#
# Needs the packages from tests/install_deps.sh.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT=$PWD

JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CROSS_TARGETS=${CROSS_TARGETS:-"aarch64 armhf s390x"}

# --- stage bookkeeping -------------------------------------------------------

STAGE_NAMES=()
STAGE_TIMES=()
CURRENT_STAGE=""
STAGE_START=0
SUITE_START=$(date +%s)

stage_begin() {
  CURRENT_STAGE=$1
  STAGE_START=$(date +%s)
  printf '\n==============================================================\n'
  printf '== %s\n' "$1"
  printf '==============================================================\n'
}

stage_end() {
  local elapsed=$(( $(date +%s) - STAGE_START ))
  STAGE_NAMES+=("$CURRENT_STAGE")
  STAGE_TIMES+=("$elapsed")
  printf -- '-- %s: OK (%ss)\n' "$CURRENT_STAGE" "$elapsed"
  CURRENT_STAGE=""
}

print_summary() {
  local status=$1 i
  printf '\n==============================================================\n'
  printf '== summary\n'
  for i in "${!STAGE_NAMES[@]}"; do
    printf '   %-60s %5ss  OK\n' "${STAGE_NAMES[$i]}" "${STAGE_TIMES[$i]}"
  done
  if [[ -n $CURRENT_STAGE ]]; then
    printf '   %-60s %5ss  FAILED\n' "$CURRENT_STAGE" "$(( $(date +%s) - STAGE_START ))"
  fi
  printf '   %-60s %5ss  %s\n' "total" "$(( $(date +%s) - SUITE_START ))" \
    "$([[ $status -eq 0 ]] && echo PASSED || echo FAILED)"
}
trap 'print_summary $?' EXIT

die() {
  printf 'FAILED: %s\n' "$*" >&2
  exit 1
}

skipped() {
  printf '\n-- %s: skipped (%s)\n' "$1" "$2"
}

# --- build helpers -----------------------------------------------------------

# configure_and_build <build dir> [cmake args...]
# Re-runs cmake every time (cheap; picks up new options and files).
BUILT=()   # build directories made by this run, for the report stage
configure_and_build() {
  local dir=$1
  shift
  cmake -G Ninja -S "$ROOT" -B "$dir" "$@"
  cmake --build "$dir" --parallel "$JOBS"
  BUILT+=("$dir")
}

run_ctest() {
  ctest --test-dir "$1" --output-on-failure --parallel "$JOBS"
}

# Cross target name -> toolchain file and the matching binutils prefix.
triplet_of() {
  case $1 in
    aarch64) echo aarch64-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
    s390x) echo s390x-linux-gnu ;;
    *) die "unknown cross target '$1' (known: aarch64 armhf s390x)" ;;
  esac
}

# --- stages ------------------------------------------------------------------

stage_host() {
  stage_begin "host build + ctest (build/host)"
  configure_and_build build/host
  run_ctest build/host
  stage_end
}

stage_asan() {
  stage_begin "ASan+UBSan build + ctest (build/asan)"
  configure_and_build build/asan -DTINYIMAPD_SANITIZE=ON
  # Leaks are errors; any UBSan report stops the test (the build also has
  # -fno-sanitize-recover=all). The caller's own *SAN_OPTIONS win.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    run_ctest build/asan
  stage_end
}

stage_cross() {
  local arch triplet
  for arch in $CROSS_TARGETS; do
    triplet=$(triplet_of "$arch")
    stage_begin "cross $arch build + ctest under qemu (build/$arch)"
    configure_and_build "build/$arch" -DCMAKE_TOOLCHAIN_FILE="$ROOT/toolchains/$triplet.cmake"
    run_ctest "build/$arch"
    stage_end
  done
}

# Runs one fuzzer (one line of build/fuzz/fuzzers.txt) for FUZZ_SECONDS.
# Output goes to build/fuzz/logs/<name>.log; crash inputs to
# build/fuzz/artifacts/<name>/. New corpus entries go to a scratch directory
# in the build tree: the seed corpus in the source tree is only read.
run_one_fuzzer() {
  local name=$1 exe=$2 seeds=$3 dict=$4
  local work=build/fuzz/corpus-work/$name artifacts=build/fuzz/artifacts/$name
  mkdir -p "$work" "$artifacts"
  local args=(
    -max_total_time="$FUZZ_SECONDS"
    -timeout=25              # one input taking this long counts as a hang
    -rss_limit_mb=2048
    -print_final_stats=1
    -artifact_prefix="$artifacts/"
  )
  [[ $dict != - ]] && args+=(-dict="$dict")
  local dirs=("$work")
  [[ $seeds != - ]] && dirs+=("$seeds")
  # libFuzzer's own defaults already treat leaks (detect_leaks=1) and every
  # sanitizer report as a crash; only ask UBSan for stack traces.
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$exe" "${args[@]}" "${dirs[@]}" >"build/fuzz/logs/$name.log" 2>&1
}

stage_fuzz() {
  stage_begin "fuzz build (clang-14, build/fuzz) + ${FUZZ_SECONDS}s per fuzzer"
  # The unit tests are covered by the host/asan/cross stages; skip them here
  # to save build time. Everything else (core, platforms, fuzzers) is built
  # with clang, instrumented.
  CC=clang-14 CXX=clang++-14 configure_and_build build/fuzz \
    -DTINYIMAPD_FUZZ=ON -DTINYIMAPD_TESTS=OFF

  local list=build/fuzz/fuzzers.txt
  [[ -f $list ]] || die "$list missing: tests/fuzz/CMakeLists.txt was not configured"
  local -a names=() exes=() seeds=() dicts=()
  local name exe seed dict
  while IFS=$'\t' read -r name exe seed dict; do
    [[ -n $name ]] || continue
    names+=("$name"); exes+=("$exe"); seeds+=("$seed"); dicts+=("$dict")
  done <"$list"
  if [[ ${#names[@]} -eq 0 ]]; then
    echo "no fuzz targets (tests/fuzz/fuzz_*.cpp)"
    stage_end
    return
  fi

  rm -rf build/fuzz/logs
  mkdir -p build/fuzz/logs
  # Run JOBS fuzzers at a time (one per core); remember each one's status.
  local -A pid_of=()
  local -a failed=()
  local i running=0 n
  for i in "${!names[@]}"; do
    if (( running >= JOBS )); then
      wait -n || true   # statuses are collected per pid below
      running=$(( running - 1 ))
    fi
    echo "fuzzing ${names[$i]} for ${FUZZ_SECONDS}s"
    run_one_fuzzer "${names[$i]}" "${exes[$i]}" "${seeds[$i]}" "${dicts[$i]}" &
    pid_of[${names[$i]}]=$!
    running=$(( running + 1 ))
  done
  # `wait <pid>` returns the exit status even of an already reaped child
  # (bash remembers it), so every fuzzer's result is checked here.
  for n in "${names[@]}"; do
    if wait "${pid_of[$n]}"; then
      printf '  %-30s ok   %s\n' "$n" \
        "$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "build/fuzz/logs/$n.log" | tr -s ' ')"
    else
      printf '  %-30s FAILED (log: build/fuzz/logs/%s.log)\n' "$n" "$n"
      failed+=("$n")
    fi
  done
  for n in "${failed[@]}"; do
    printf '\n---- %s: last 60 lines of build/fuzz/logs/%s.log\n' "$n" "$n"
    tail -n 60 "build/fuzz/logs/$n.log"
    printf -- '---- reproduce: %s build/fuzz/artifacts/%s/<crash-file>\n' \
      "$(awk -F'\t' -v n="$n" '$1 == n { print $2 }' "$list")" "$n"
  done
  (( ${#failed[@]} == 0 )) || die "fuzzers failed: ${failed[*]}"
  stage_end
}

# report_binary <label> <build dir>: stripped size and NEEDED of tinyimapd.
report_binary() {
  local label=$1 dir=$2
  local bin=$dir/platforms/posix/tinyimapd
  [[ -f $bin ]] || die "$bin not built (run the $label build stage first)"
  # The strip that matches the target, as the toolchain file configured it.
  local strip
  strip=$(sed -n 's/^CMAKE_STRIP:FILEPATH=//p' "$dir/CMakeCache.txt")
  [[ -n $strip ]] || die "no CMAKE_STRIP in $dir/CMakeCache.txt"
  local stripped=$dir/tinyimapd.stripped
  "$strip" -o "$stripped" "$bin"
  local needed
  needed=$(readelf -d "$stripped" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  printf '%-8s tinyimapd: %s bytes unstripped, %s bytes stripped\n' \
    "$label" "$(stat -c %s "$bin")" "$(stat -c %s "$stripped")"
  printf '%-8s NEEDED: %s\n' "$label" "$(echo $needed)"
  if grep -q 'libstdc++' <<<"$needed"; then
    die "$label tinyimapd needs libstdc++.so; it must be linked statically"
  fi
}

# check_core_symbols <label> <core library>: core must not allocate or throw
# (DESIGN.md "Memory: fixed at startup"). Looks at the undefined symbols of
# every object in the archive, i.e. what core asks the runtime for.
check_core_symbols() {
  local label=$1 lib=$2
  [[ -f $lib ]] || die "$lib not built"
  local undefined
  undefined=$(nm -C --undefined-only "$lib")
  local forbidden='operator new|operator delete|\<(malloc|calloc|realloc|free|aligned_alloc|posix_memalign|memalign|strdup|strndup)\>|__cxa_throw|__cxa_allocate_exception|__cxa_rethrow'
  local bad
  bad=$(nm -C -A --undefined-only "$lib" | grep -E "$forbidden" || true)
  if [[ -n $bad ]]; then
    echo "$bad"
    die "$label core references allocation or exception functions (above)"
  fi
  # Not fatal, but STYLE.md asks core to avoid them: dynamic initialisation
  # of function-local statics and registered global destructors.
  local soft
  soft=$(nm -C -A --undefined-only "$lib" | grep -E '__cxa_guard|__cxa_atexit' || true)
  if [[ -n $soft ]]; then
    echo "warning: $label core uses guarded statics or global destructors:"
    echo "$soft"
  fi
  printf '%-8s core (%s objects, %s undefined symbols): no allocation, no exceptions\n' \
    "$label" "$(ar t "$lib" | wc -l)" "$(grep -c ' U ' <<<"$undefined" || true)"
}

# Reports on the builds made by this run (host and aarch64 in a full run).
stage_report() {
  stage_begin "report: binary sizes, NEEDED, core symbols"
  local label dir reported=0
  for label in host aarch64; do
    dir=build/$label
    [[ " ${BUILT[*]} " == *" $dir "* ]] || continue
    reported=1
    check_core_symbols "$label" "$dir/core/libtinyimapd_core.a"
    if [[ -f platforms/posix/main.cpp ]]; then
      report_binary "$label" "$dir"
    else
      echo "$label: no tinyimapd program yet (platforms/posix/main.cpp missing)"
    fi
  done
  (( reported )) || echo "nothing to report: neither build/host nor build/aarch64 was built"
  stage_end
}

# --- packaging and a real boot (issue 15) -----------------------------------

stage_package() {
  stage_begin "package: .deb (build/deb) installed, served, purged"
  [[ $EUID -eq 0 ]] || die "the package stage installs a .deb: run as root, or SKIP_PACKAGE=1"
  configure_and_build build/deb -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINYIMAPD_TESTS=OFF
  rm -f build/deb/tinyimapd_*.deb
  (cd build/deb && cpack -G DEB)
  bash tests/package/test_deb.sh build/deb/tinyimapd_*.deb
  stage_end
}

stage_system() {
  stage_begin "system: boot under qemu-system-aarch64, IMAP from the host"
  if [[ ! -x build/aarch64/platforms/posix/tinyimapd ]]; then
    configure_and_build build/aarch64 \
      -DCMAKE_TOOLCHAIN_FILE="$ROOT/toolchains/aarch64-linux-gnu.cmake"
  fi
  bash tests/system/boot_aarch64.sh build/aarch64/platforms/posix/tinyimapd
  stage_end
}

# --- main --------------------------------------------------------------------

echo "tinyimapd test suite: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), JOBS=$JOBS"

# run_stage <name>: stage_<name> unless SKIP_<NAME>=1.
run_stage() {
  local skip_var=SKIP_${1^^}
  if [[ ${!skip_var:-0} == 1 ]]; then
    skipped "$1" "$skip_var=1"
  else
    "stage_$1"
  fi
}

run_stage host
run_stage package
run_stage asan
run_stage cross
run_stage system
run_stage fuzz
run_stage report
