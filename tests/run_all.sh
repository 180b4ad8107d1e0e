#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run) and as README documents it:
#
#   bash tests/run_all.sh
#
# Stages, in order, stopping at the first failure:
#   host    gcc build (default options) in build/host, ctest; then the same
#           against mbedTLS 3.6 (TLS 1.3) in build/host-mbedtls3, its mbedTLS
#           built once by tests/deps/build_mbedtls.sh (build/deps/)
#   asan    gcc ASan+UBSan build (-DTINYIMAPD_SANITIZE=ON) in build/asan, ctest
#   cross   per CROSS_TARGETS, builds in build/<target> with toolchains/*.cmake;
#           ctest runs the binaries under qemu-user. aarch64, armhf, s390x use
#           Debian's mbedTLS 2.28 and zlib; mips (big-endian), mipsel and
#           aarch64-musl (musl libc) mbedTLS 3.6 and a static zlib built for
#           the target (tests/deps/, docs/TARGETS.md): COMPRESS=DEFLATE on all
#   fuzz    clang-14 libFuzzer build in build/fuzz; every fuzzer runs for
#           FUZZ_SECONDS; any crash, leak, timeout or sanitizer report fails
#   report  per target built by this run: stripped size with and without TLS,
#           NEEDED (no libstdc++.so), interpreter, memory reserved at the
#           defaults; core references no allocator/exceptions. The table goes
#           to build/report-targets.md (docs/BENCHMARKS.md has a copy)
#   package the .deb (cpack, build/deb, RelWithDebInfo): installed on this
#           machine, served from its files, purged (tests/package/test_deb.sh;
#           needs root)
#   system  a real boot under qemu-system-aarch64: the aarch64 server (from
#           build/aarch64, built if missing) in an initramfs around Debian's
#           arm64 kernel, serving IMAP to the host (tests/system/boot_aarch64.sh)
#
# Every build has -DTINYIMAPD_WERROR=ON (warnings are errors).
#
# Environment (all optional; the default runs everything):
#   SKIP_HOST=1 SKIP_HOST_MBEDTLS3=1 SKIP_ASAN=1 SKIP_CROSS=1 SKIP_FUZZ=1 SKIP_REPORT=1
#   SKIP_PACKAGE=1 SKIP_SYSTEM=1
#   CROSS_TARGETS="aarch64 armhf mips mipsel aarch64-musl"   cross targets to run
#                                         (also s390x: big-endian like mips, not
#                                         in the default set to save 3 minutes)
#   FUZZ_SECONDS=60                       run time of each fuzzer
#   JOBS=<nproc>                          build/test parallelism
#   REPORT_EXISTING=1                     report every build/<target> present,
#                                         not only those built by this run
#   REPORT_UPDATE_DOCS=1                  copy the table into docs/BENCHMARKS.md
#
# Needs the packages from tests/install_deps.sh.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT=$PWD

JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
KNOWN_CROSS_TARGETS="aarch64 armhf s390x mips mipsel aarch64-musl"
CROSS_TARGETS=${CROSS_TARGETS:-"aarch64 armhf mips mipsel aarch64-musl"}

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
  cmake -G Ninja -S "$ROOT" -B "$dir" -DTINYIMAPD_WERROR=ON "$@"
  cmake --build "$dir" --parallel "$JOBS"
  BUILT+=("$dir")
}

run_ctest() {
  ctest --test-dir "$1" --output-on-failure --parallel "$JOBS"
}

# --- targets and their mbedTLS (issue 14) ----------------------------------------
# Cross target name -> toolchain file (toolchains/<name>.cmake).
triplet_of() {
  case $1 in
    aarch64) echo aarch64-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
    s390x) echo s390x-linux-gnu ;;
    mips) echo mips-linux-gnu ;;
    mipsel) echo mipsel-linux-gnu ;;
    aarch64-musl) echo aarch64-linux-musl ;;
    *) die "unknown cross target '$1' (known: $KNOWN_CROSS_TARGETS)" ;;
  esac
}

# Targets built against mbedTLS 3.6 from tests/deps/build_mbedtls.sh (the
# others use Debian's libmbedtls-dev 2.28 for their architecture).
uses_mbedtls3() {
  case $1 in
    mips | mipsel | aarch64-musl) return 0 ;;
    *) return 1 ;;
  esac
}

# mbedtls3_prefix <name> [<toolchain file>]: the prefix of mbedTLS 3.6 for
# a target, building it first if this build tree has not yet (build/deps/,
# once per target; see tests/deps/build_mbedtls.sh).
mbedtls3_prefix() {
  local prefix
  prefix=$(JOBS=$JOBS bash "$ROOT/tests/deps/build_mbedtls.sh" "$@" | tail -n1)
  [[ -d $prefix ]] || die "tests/deps/build_mbedtls.sh $1 gave no prefix"
  echo "$prefix"
}

# mbedtls3_args <name> [<toolchain file>]: the cmake argument that selects
# mbedTLS 3.6 for a target.
mbedtls3_args() {
  echo "-DCMAKE_PREFIX_PATH=$(mbedtls3_prefix "$@")"
}

# zlib_prefix <name> [<toolchain file>]: the prefix of a static zlib for a
# target Debian has no zlib1g-dev for (the uses_mbedtls3 ones), built once
# per build tree like their mbedTLS (tests/deps/build_zlib.sh, seconds).
zlib_prefix() {
  local prefix
  prefix=$(JOBS=$JOBS bash "$ROOT/tests/deps/build_zlib.sh" "$@" | tail -n1)
  [[ -d $prefix ]] || die "tests/deps/build_zlib.sh $1 gave no prefix"
  echo "$prefix"
}

# built_deps_args <name> <toolchain file>: the cmake arguments of a target
# whose mbedTLS and zlib the suite builds, one a line: mbedTLS's prefix, the
# zlib header directory and library by name (so a build tree configured
# before, whose cache holds the host's /usr/include/zlib.h, takes this one),
# and COMPRESS=DEFLATE on explicitly (a zlib that is not found then fails
# the configure step instead of quietly building without COMPRESS).
built_deps_args() {
  local tls z
  tls=$(mbedtls3_prefix "$@")
  z=$(zlib_prefix "$@")
  printf '%s\n' "-DCMAKE_PREFIX_PATH=$tls" "-DZLIB_INCLUDE_DIR=$z/include" \
    "-DZLIB_LIBRARY=$z/lib/libz.a" -DTINYIMAPD_COMPRESS=ON
}

# --- stages ------------------------------------------------------------------

stage_host() {
  stage_begin "host build + ctest (build/host)"
  configure_and_build build/host
  run_ctest build/host
  stage_end
  # Its second half: the same against mbedTLS 3.6 (SKIP_HOST_MBEDTLS3=1 skips).
  if [[ ${SKIP_HOST_MBEDTLS3:-0} == 1 ]]; then
    skipped host-mbedtls3 "SKIP_HOST_MBEDTLS3=1"
  else
    stage_host_mbedtls3
  fi
}

# The host build against mbedTLS 3.6 (TLS 1.3): part of the host stage.
stage_host_mbedtls3() {
  stage_begin "host mbedTLS 3.6 build + ctest (build/host-mbedtls3)"
  local arg
  arg=$(mbedtls3_args host)
  configure_and_build build/host-mbedtls3 "$arg"
  run_ctest build/host-mbedtls3
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
  local arch triplet toolchain
  local -a args
  for arch in $CROSS_TARGETS; do
    triplet=$(triplet_of "$arch")
    toolchain=$ROOT/toolchains/$triplet.cmake
    stage_begin "cross $arch build + ctest under qemu (build/$arch)"
    args=(-DCMAKE_TOOLCHAIN_FILE="$toolchain")
    if uses_mbedtls3 "$arch"; then
      local -a deps
      mapfile -t deps < <(built_deps_args "$arch" "$toolchain")
      (( ${#deps[@]} == 4 )) || die "no mbedTLS/zlib for $arch"
      args+=("${deps[@]}")
    fi
    configure_and_build "build/$arch" "${args[@]}"
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

# --- report: size and memory per target (issue 14) ---------------------------------
# Table rows, in this order, for every build/<target> this run made (or, with
# REPORT_EXISTING=1, every one that exists).
REPORT_TARGETS=${REPORT_TARGETS:-"host host-mbedtls3 aarch64 armhf s390x mips mipsel aarch64-musl"}

# cache_value <build dir> <variable>: a value from the build's CMakeCache.txt.
cache_value() {
  sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt" | head -n1
}

# stripped_size <build dir> <binary>: bytes of the binary stripped with the
# target's strip (as the toolchain file configured it); the stripped copy is
# left beside the binary as <binary>.stripped.
stripped_size() {
  local dir=$1 bin=$2 strip
  strip=$(cache_value "$dir" CMAKE_STRIP)
  [[ -n $strip ]] || die "no CMAKE_STRIP in $dir/CMakeCache.txt"
  "$strip" -o "$bin.stripped" "$bin"
  stat -c %s "$bin.stripped"
}

# run_target <build dir> <program> [args...]: runs a program of the build,
# under the target's qemu for cross builds (the toolchain's emulator). It
# execs, so call it in a subshell ($(...) or with &): then $! is the program
# itself, and a kill reaches it rather than a shell that leaves qemu behind.
run_target() {
  local dir=$1 e
  shift
  local -a emulator=()
  e=$(cache_value "$dir" TINYIMAPD_EMULATOR)  # the toolchain files cache it
  [[ -n $e ]] && IFS=';' read -r -a emulator <<<"$e"
  exec "${emulator[@]}" "$@"
}

# startup_reservation <build dir>: "<slots> <KiB>" from the startup line
# ("N client slots, M KiB reserved") of tinyimapd run at the default
# configuration (under the target's qemu for cross builds), or "? ?".
startup_reservation() {
  local dir=$1 bin=$1/platforms/posix/tinyimapd
  local tmp
  tmp=$(mktemp -d /tmp/tinyimapd-report-XXXXXX)
  printf 'report:{PLAIN}x\n' >"$tmp/passwd"
  local -a as_user=()
  if [[ $EUID -eq 0 ]]; then
    chown -R nobody: "$tmp"
    as_user=(--user=nobody)
  fi
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run_target "$dir" "$bin" --foreground "${as_user[@]}" --listen="127.0.0.1:$port" \
    --mail-dir="$tmp/mail" --passwd-file="$tmp/passwd" >"$tmp/log" 2>&1 &
  local pid=$! i line=""
  for (( i = 0; i < 600; i++ )); do
    line=$(grep -o '[0-9]* client slots, [0-9]* KiB reserved' "$tmp/log" || true)
    [[ -n $line ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ -n $line ]]; then
    awk '{ print $1, $4 }' <<<"$line"
  else
    echo "? ?"
    sed 's/^/    startup: /' "$tmp/log" | tail -n 5 >&2
  fi
  rm -rf "$tmp"
}

# report_target <label> <build dir>: one table row; the same checks as ever
# (no libstdc++.so among NEEDED; core references no allocator/exceptions).
report_target() {
  local label=$1 dir=$2
  local bin=$dir/platforms/posix/tinyimapd
  [[ -f $bin ]] || die "$bin not built"
  check_core_symbols "$label" "$dir/core/libtinyimapd_core.a" >&2
  local size notls="no TLS build" needed interp mbedtls slots kib
  size=$(stripped_size "$dir" "$bin")
  needed=$(readelf -d "$bin.stripped" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  if grep -q 'libstdc++' <<<"$needed"; then
    die "$label tinyimapd needs libstdc++.so; it must be linked statically"
  fi
  interp=$(readelf -l "$bin.stripped" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
  # The same program without TLS (only platform files recompiled).
  if [[ $(cache_value "$dir" TINYIMAPD_TLS) != OFF ]] &&
    cmake --build "$dir" --parallel "$JOBS" --target tinyimapd-notls >/dev/null; then
    notls=$(stripped_size "$dir" "$dir/platforms/posix/tinyimapd-notls")
  fi
  mbedtls=$(run_target "$dir" "$bin" --version | sed -n 's/^TLS: //p')
  read -r slots kib < <(startup_reservation "$dir")
  printf '| %s | %s | %s | %s | %s | `%s` | %s | %s |\n' "$label" "${mbedtls:-?}" "$size" "$notls" \
    "$(sed 's/ *$//; s/ /, /g' <<<"$needed")" "${interp:-static}" "$slots" "$kib"
}

stage_report() {
  stage_begin "report: size, NEEDED and reserved memory per target"
  local label dir reported=0 out=build/report-targets.md
  mkdir -p build
  {
    echo "| target | TLS library | stripped bytes | stripped, no TLS | NEEDED | interpreter | slots | KiB reserved |"
    echo "|---|---|---:|---:|---|---|---:|---:|"
  } >"$out"
  for label in $REPORT_TARGETS; do
    dir=build/$label
    if [[ ${REPORT_EXISTING:-0} == 1 ]]; then
      [[ -f $dir/platforms/posix/tinyimapd ]] || continue
    else
      [[ " ${BUILT[*]} " == *" $dir "* ]] || continue
    fi
    reported=1
    report_target "$label" "$dir" >>"$out"
  done
  if (( reported )); then
    {
      echo
      echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'):" \
        "tests/run_all.sh report stage; reserved = the startup line at the defaults"
    } >>"$out"
    cat "$out"
    echo "(written to $out; docs/BENCHMARKS.md \"Size and memory per target\" is a copy)"
    # REPORT_UPDATE_DOCS=1: put it there (between the targets markers).
    if [[ ${REPORT_UPDATE_DOCS:-0} == 1 ]]; then
      python3 - "$out" docs/BENCHMARKS.md <<'PY'
import sys
table, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read()
begin, end = "<!-- targets:begin -->\n", "<!-- targets:end -->"
i, j = doc.index(begin) + len(begin), doc.index(end)
open(sys.argv[2], "w").write(doc[:i] + table + doc[j:])
PY
      echo "docs/BENCHMARKS.md updated"
    fi
  else
    echo "nothing to report: no build/<target> of the report was built by this run"
  fi
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
