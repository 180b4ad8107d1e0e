#!/usr/bin/env bash
# tinyimapd side by side with Dovecot: the one command (docs/BENCHMARKS.md).
#
#   bash tests/bench/run.sh [--quick] [bench.py options]
#
# As root on Debian 12 (or through sudo). It
#   1. installs what it needs from Debian: dovecot-imapd, eatmydata (the data
#      load only), openssl, cmake, ninja, g++, libmbedtls-dev; the aarch64
#      cross compiler and libmbedtls-dev:arm64 are used if present
#      (tests/install_deps.sh installs them), else the aarch64 size rows say
#      "not built";
#   2. builds tinyimapd Release (the one measured) and MinSizeRel with and
#      without TLS for x86-64 and aarch64 (the sizes), and the load generator
#      tests/bench/imap_load.cpp, in build-bench/ (BENCH_BUILD overrides);
#   3. runs tests/bench/bench.py: generates the data once, loads it into both
#      servers, starts both on loopback ports as the user `imapbench` under
#      /tmp/imapbench, measures, prints the table and writes it into
#      docs/BENCHMARKS.md (--no-doc: print only).
# A system-wide Dovecot is neither stopped nor used: ours has its own config,
# ports and base_dir. About 7 minutes on 2 cores; --quick takes about 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
build=${BENCH_BUILD:-$repo/build-bench}

[[ $(id -u) == 0 ]] || { echo "run.sh: run as root (apt-get, useradd, Dovecot's master)" >&2; exit 1; }

pkgs=(dovecot-imapd eatmydata openssl cmake ninja-build g++ libmbedtls-dev python3 binutils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq || true  # a mirror in mid-sync for one architecture is not fatal
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian starts the packaged Dovecot on 143/993; it is left alone.

id imapbench >/dev/null 2>&1 ||
  useradd --system --no-create-home --shell /usr/sbin/nologin imapbench

build_one() {  # dir, cmake args...
  local dir=$1; shift
  cmake -S "$repo" -B "$build/$dir" -G Ninja -DTINYIMAPD_TESTS=OFF "$@" >/dev/null
  ninja -C "$build/$dir" tinyimapd >/dev/null
}
echo "[run.sh] building in $build" >&2
build_one rel -DCMAKE_BUILD_TYPE=Release
build_one size-x86 -DCMAKE_BUILD_TYPE=MinSizeRel
build_one size-x86-notls -DCMAKE_BUILD_TYPE=MinSizeRel -DTINYIMAPD_TLS=OFF
if command -v aarch64-linux-gnu-g++ >/dev/null && [[ -e /usr/lib/aarch64-linux-gnu/libmbedtls.so ]]; then
  build_one size-a64 -DCMAKE_BUILD_TYPE=MinSizeRel \
    -DCMAKE_TOOLCHAIN_FILE="$repo/toolchains/aarch64-linux-gnu.cmake"
  build_one size-a64-notls -DCMAKE_BUILD_TYPE=MinSizeRel -DTINYIMAPD_TLS=OFF \
    -DCMAKE_TOOLCHAIN_FILE="$repo/toolchains/aarch64-linux-gnu.cmake"
else
  echo "[run.sh] no aarch64-linux-gnu-g++ or libmbedtls-dev:arm64: aarch64 size rows skipped" >&2
fi
g++ -std=c++17 -O2 -Wall -Wextra -o "$build/imap_load" tests/bench/imap_load.cpp

exec python3 tests/bench/bench.py --builds "$build" "$@"
