# Cross toolchain: 32-bit little-endian MIPS (MIPS32r2, o32) Linux, glibc — the
# byte order of OpenWrt's ramips (MT7621, MT76x8) routers. Like OpenWrt, and
# like the big-endian target, it uses mbedTLS 3.6, which is
# built for the target by tests/deps/build_mbedtls.sh (tests/run_all.sh does
# it once per build tree) and found through CMAKE_PREFIX_PATH:
#
#   prefix=$(bash tests/deps/build_mbedtls.sh mipsel $PWD/toolchains/mipsel-linux-gnu.cmake)
#   cmake -G Ninja -B build/mipsel -DCMAKE_PREFIX_PATH=$prefix \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/mipsel-linux-gnu.cmake
#
# Needs (Debian 12): g++-mipsel-linux-gnu, catch2, qemu-user — see
# tests/install_deps.sh. ctest runs the target's binaries under qemu-mipsel.
set(TINYIMAPD_TARGET_TRIPLET mipsel-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR mipsel)
set(TINYIMAPD_QEMU qemu-mipsel)
# COMPRESS=DEFLATE needs a zlib for the target, which Debian does not have:
# tests/deps/build_zlib.sh builds a static one (tests/run_all.sh does, and
# passes -DTINYIMAPD_COMPRESS=ON with it; docs/TARGETS.md):
#
#   zlib=$(bash tests/deps/build_zlib.sh mipsel $PWD/toolchains/mipsel-linux-gnu.cmake)
#   ... -DCMAKE_PREFIX_PATH="$prefix;$zlib" -DTINYIMAPD_COMPRESS=ON
#
# Without one, the build goes on without COMPRESS (not advertised).
include(${CMAKE_CURRENT_LIST_DIR}/cmake/DebianCross.cmake)
