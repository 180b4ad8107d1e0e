#!/usr/bin/env bash
# Installs what tinyimapd's build and test suite need on Debian 12 (bookworm),
# from Debian's own mirror. Idempotent: when everything is installed already
# it touches nothing (no apt-get update).
#
#   bash tests/install_deps.sh              everything tests/run_all.sh needs:
#                                           host, ASan, cross (arm64, armhf,
#                                           s390x, mips, mipsel, arm64 with musl
#                                           under qemu-user), clang fuzzing
#   bash tests/install_deps.sh --host-only  just enough to build and run the
#                                           server on this machine (no tests:
#                                           configure with -DTINYIMAPD_TESTS=OFF)
#
# Runs as root, or through sudo when available.
set -euo pipefail

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

host_only=0
case ${1:-} in
  "") ;;
  --host-only) host_only=1 ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

HOST_PACKAGES=(cmake ninja-build g++ libmbedtls-dev zlib1g-dev python3)

# Cross targets: Debian architecture name -> GNU triplet (g++-<triplet>).
declare -A CROSS_TRIPLET=([arm64]=aarch64-linux-gnu [armhf]=arm-linux-gnueabihf [s390x]=s390x-linux-gnu)

FULL_PACKAGES=(
  "${HOST_PACKAGES[@]}"
  catch2 curl openssl isync binutils file
  qemu-user                      # runs the cross-built tests (ctest emulator)
  clang-14 libclang-rt-14-dev    # libFuzzer and the sanitizer runtimes for clang
  unicode-data                   # UnicodeData.txt: core/mime/unicase's table checked against it
)
# Packaging and the real boot (tests/run_all.sh stages package and system,
# ctests man_pages and openwrt_init): cpack's dependency computation, the
# unit check, the man page linters, busybox's ash for the OpenWrt init script,
# qemu-system-aarch64 (the arm64 kernel and busybox-static are downloaded by
# tests/system/boot_aarch64.sh, not installed).
FULL_PACKAGES+=(
  dpkg-dev systemd groff-base man-db mandoc busybox
  qemu-system-arm cpio
)
for arch in "${!CROSS_TRIPLET[@]}"; do
  # g++-<triplet> brings binutils-<triplet> (strip, readelf, nm) and the
  # cross libc/libstdc++ in /usr/<triplet>.
  # zlib1g-dev:<arch>: COMPRESS=DEFLATE for the target (without it the build
  # goes on without COMPRESS; docs/TARGETS.md).
  FULL_PACKAGES+=("g++-${CROSS_TRIPLET[$arch]}" "libmbedtls-dev:$arch" "zlib1g-dev:$arch")
done

# Issue 14's targets: MIPS (both byte orders, glibc) and aarch64 with musl,
# all three against mbedTLS 3.6 and a static zlib, which
# tests/deps/build_mbedtls.sh and build_zlib.sh build from Debian's source
# packages (trixie's mbedtls, bookworm's zlib; apt-get source: dpkg-dev,
# bzip2, xz-utils).
# musl-dev:arm64 is multiarch (arm64 is added above); clang-14 compiles and
# lld links the musl programs (toolchains/cmake/MuslCross.cmake).
FULL_PACKAGES+=(
  g++-mips-linux-gnu g++-mipsel-linux-gnu
  musl-dev:arm64 lld
  dpkg-dev bzip2 xz-utils
)

if [[ $EUID -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  echo "install_deps.sh: run as root (or install sudo)" >&2
  exit 1
fi

if (( host_only )); then
  packages=("${HOST_PACKAGES[@]}")
  architectures=()
else
  packages=("${FULL_PACKAGES[@]}")
  architectures=("${!CROSS_TRIPLET[@]}")
fi

# Is every package installed already? dpkg-query prints one status per
# package; anything but "install ok installed" (or an unknown package) means no.
all_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null) || return 1
  ! grep -qv '^install ok installed$' <<<"$status"
}

missing_arch=0
for arch in "${architectures[@]}"; do
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    missing_arch=1
  fi
done

if (( ! missing_arch )) && all_installed; then
  echo "install_deps.sh: all ${#packages[@]} packages already installed"
  exit 0
fi

for arch in "${architectures[@]}"; do
  "${SUDO[@]}" dpkg --add-architecture "$arch"   # no-op if already added
done

# After adding armhf, `apt-get update` has been seen to exit non-zero because
# one security-mirror index for armhf failed to download, although every
# package we need still installs. So its status is only reported here;
# `apt-get install` below fails the script if a package really is missing.
if ! "${SUDO[@]}" apt-get update; then
  echo "install_deps.sh: warning: apt-get update reported errors; continuing" >&2
fi

apt_install() {
  echo "install_deps.sh: installing $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}
# The cross targets' zlib is optional (without it a target builds without
# COMPRESS=DEFLATE, docs/TARGETS.md). zlib1g is Multi-Arch: same, so every
# architecture's copy must be the very version of the host's: when a
# mirror's security index for one architecture is missing, they cannot
# match. Then everything else is installed without them.
if ! apt_install "${packages[@]}"; then
  rest=()
  for p in "${packages[@]}"; do [[ $p == zlib1g-dev:* ]] || rest+=("$p"); done
  (( ${#rest[@]} < ${#packages[@]} )) || exit 1
  echo "install_deps.sh: warning: retrying without the cross targets' zlib (COMPRESS off there)" >&2
  apt_install "${rest[@]}"
fi
