#!/usr/bin/env bash
# Builds mbedTLS 3.6 from Debian trixie's `mbedtls` source package for one
# target and installs it into a prefix under build/deps/, once: a later call
# for the same target finds the prefix and only prints it.
#
#   bash tests/deps/build_mbedtls.sh <name> [<cmake toolchain file>]
#
#   <name>            a label for the target: host, mips, mipsel, aarch64-musl, ...
#   toolchain file    the one tinyimapd itself uses for that target (none: host)
#
# Prints the install prefix (build/deps/mbedtls-<version>-<name>, absolute) on
# its last line of stdout; everything else goes to stderr. Configure tinyimapd
# with -DCMAKE_PREFIX_PATH=<prefix>: find_package(MbedTLS) then picks 3.6.
#
# The source comes from Debian's own archive, with Debian's patches applied:
# `apt-get source mbedtls` against a private apt configuration in
# build/deps/apt/ that lists only trixie's deb-src (the system's apt sources
# and state are not touched; no root needed). Needs apt-get, dpkg-dev
# (dpkg-source), cmake, ninja. The download and unpacking happen once per
# build tree (build/deps/src/), under a lock, so parallel calls are safe.
#
# The build is the upstream default configuration (TLS 1.2 and 1.3, PSA
# crypto), static libraries only, Release (-O2), no programs, no tests:
# tinyimapd then carries exactly the mbedTLS code it uses and needs no
# libmbedtls*.so on the target.
set -euo pipefail

name=${1:?usage: build_mbedtls.sh <name> [<toolchain file>]}
toolchain=${2:-}

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly ROOT=$PWD
readonly DEPS=$ROOT/build/deps
readonly SUITE=${MBEDTLS_SUITE:-trixie}
readonly MIRROR=${MBEDTLS_MIRROR:-http://deb.debian.org/debian}

log() { printf 'build_mbedtls.sh: %s\n' "$*" >&2; }

mkdir -p "$DEPS"

# --- the source, once per build tree ------------------------------------------
source "$ROOT/tests/deps/debian_source.sh"
debian_source mbedtls "$SUITE" "$MIRROR" 'mbedtls-3.*' CMakeLists.txt "$DEPS/apt" "$DEPS/src" || exit 1

source_dir=$(find "$DEPS/src" -maxdepth 1 -type d -name 'mbedtls-3.*' | sort | tail -n1)
version=${source_dir##*/mbedtls-}
prefix=$DEPS/mbedtls-$version-$name
build=$DEPS/build-mbedtls-$version-$name

# --- the build, once per target --------------------------------------------------
if [[ -f $prefix/.complete ]]; then
  echo "$prefix"
  exit 0
fi

log "building mbedTLS $version for $name${toolchain:+ ($toolchain)} into $prefix"
args=(
  -G Ninja -S "$source_dir" -B "$build"
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_INSTALL_PREFIX="$prefix"
  -DCMAKE_INSTALL_LIBDIR=lib
  -DUSE_STATIC_MBEDTLS_LIBRARY=ON
  -DUSE_SHARED_MBEDTLS_LIBRARY=OFF
  -DENABLE_PROGRAMS=OFF
  -DENABLE_TESTING=OFF
  -DGEN_FILES=OFF
  -DMBEDTLS_FATAL_WARNINGS=OFF
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
)
[[ -n $toolchain ]] && args+=(-DCMAKE_TOOLCHAIN_FILE="$toolchain")
rm -rf "$build" "$prefix"
cmake "${args[@]}" >&2
cmake --build "$build" --parallel "${JOBS:-$(nproc)}" >&2
cmake --install "$build" >&2
rm -rf "$build"
touch "$prefix/.complete"
echo "$prefix"
