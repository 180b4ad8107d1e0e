#!/usr/bin/env bash
# Builds a static zlib from Debian bookworm's `zlib` source package for one
# target and installs it into a prefix under build/deps/, once: a later call
# for the same target finds the prefix and only prints it. The zlib of the
# targets Debian has no zlib1g-dev for (mips, mipsel: no such Debian
# architecture; aarch64-musl: no musl build), so that COMPRESS=DEFLATE
# (RFC 4978) is built and tested there too (docs/TARGETS.md).
#
#   bash tests/deps/build_zlib.sh <name> [<cmake toolchain file>]
#
#   <name>            a label for the target: host, mips, mipsel, aarch64-musl, ...
#   toolchain file    the one tinyimapd itself uses for that target (none: host)
#
# Prints the install prefix (build/deps/zlib-<version>-<name>, absolute) on
# its last line of stdout; everything else goes to stderr. Configure tinyimapd
# with that prefix in -DCMAKE_PREFIX_PATH: find_package(ZLIB) then finds
# its include/zlib.h and lib/libz.a.
#
# The source comes from Debian's own archive, with Debian's patches applied,
# exactly as tests/deps/build_mbedtls.sh fetches mbedTLS: `apt-get source
# zlib` against a private apt configuration in build/deps/apt-zlib/ that
# lists only bookworm's deb-src (the system's apt sources and state are not
# touched; no root needed). Needs apt-get, dpkg-dev (dpkg-source), cmake,
# ninja. The download and unpacking happen once per build tree
# (build/deps/src/), under a lock, so parallel calls are safe.
#
# The build is zlib's own CMake build with the target's toolchain file,
# Release (-O2), position-independent; only the static library `zlibstatic`
# is built (no shared library, no example programs), and libz.a, zlib.h and
# the generated zconf.h are installed by hand: a prefix without libz.so
# means tinyimapd links zlib in and needs no libz.so.1 on the device.
set -euo pipefail

name=${1:?usage: build_zlib.sh <name> [<toolchain file>]}
toolchain=${2:-}

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly ROOT=$PWD
readonly DEPS=$ROOT/build/deps
readonly SUITE=${ZLIB_SUITE:-bookworm}
readonly MIRROR=${ZLIB_MIRROR:-http://deb.debian.org/debian}

log() { printf 'build_zlib.sh: %s\n' "$*" >&2; }

mkdir -p "$DEPS"

# --- the source, once per build tree ------------------------------------------
source "$ROOT/tests/deps/debian_source.sh"
debian_source zlib "$SUITE" "$MIRROR" 'zlib-1.*' zlib.h "$DEPS/apt-zlib" "$DEPS/src" || exit 1

source_dir=$(find "$DEPS/src" -maxdepth 1 -type d -name 'zlib-1.*' | sort | tail -n1)
# The upstream version from zlib.h (Debian's directory name may carry a
# suffix such as ".dfsg").
version=$(sed -n 's/^#define ZLIB_VERSION "\([^"]*\)".*/\1/p' "$source_dir/zlib.h")
[[ -n $version ]] || { log "no ZLIB_VERSION in $source_dir/zlib.h"; exit 1; }
prefix=$DEPS/zlib-$version-$name
build=$DEPS/build-zlib-$version-$name

# --- the build, once per target --------------------------------------------------
if [[ -f $prefix/.complete ]]; then
  echo "$prefix"
  exit 0
fi

# zlib's CMakeLists.txt renames the source tree's zconf.h out of the way
# (it generates its own in the build tree): one build at a time per source.
exec 8>"$DEPS/.build-zlib.lock"
flock 8
# Debian's .dfsg tarball leaves out win32/, but zlib's CMakeLists.txt names
# win32/zlib1.rc among the shared library's sources (never compiled off
# Windows, and the shared library is not built here): an empty stand-in lets
# the configure step pass.
[[ -e $source_dir/win32/zlib1.rc ]] || { mkdir -p "$source_dir/win32" && : >"$source_dir/win32/zlib1.rc"; }

log "building zlib $version for $name${toolchain:+ ($toolchain)} into $prefix"
args=(
  -G Ninja -S "$source_dir" -B "$build"
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DCMAKE_INSTALL_PREFIX="$prefix"
)
[[ -n $toolchain ]] && args+=(-DCMAKE_TOOLCHAIN_FILE="$toolchain")
rm -rf "$build" "$prefix"
cmake "${args[@]}" >&2
cmake --build "$build" --parallel "${JOBS:-$(nproc)}" --target zlibstatic >&2
mkdir -p "$prefix/include" "$prefix/lib"
cp "$build/libz.a" "$prefix/lib/libz.a"
cp "$source_dir/zlib.h" "$build/zconf.h" "$prefix/include/"
rm -rf "$build"
touch "$prefix/.complete"
echo "$prefix"
