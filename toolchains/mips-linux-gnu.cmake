# Cross toolchain: 32-bit big-endian MIPS (MIPS32r2, o32) Linux, glibc — the
# byte order of OpenWrt's most common router SoCs (ath79). Debian 12 has the
# cross compiler but no libmbedtls-dev for big-endian MIPS, so mbedTLS 3.6 is
# built for the target by tests/deps/build_mbedtls.sh (tests/run_all.sh does
# it once per build tree) and found through CMAKE_PREFIX_PATH:
#
#   prefix=$(bash tests/deps/build_mbedtls.sh mips $PWD/toolchains/mips-linux-gnu.cmake)
#   cmake -G Ninja -B build/mips -DCMAKE_PREFIX_PATH=$prefix \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/mips-linux-gnu.cmake
#
# Needs (Debian 12): g++-mips-linux-gnu, catch2, qemu-user — see
# tests/install_deps.sh. ctest runs the target's binaries under qemu-mips.
set(TINYIMAPD_TARGET_TRIPLET mips-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR mips)
set(TINYIMAPD_QEMU qemu-mips)
# COMPRESS=DEFLATE needs a zlib for the target, which Debian does not have:
# tests/deps/build_zlib.sh builds a static one (tests/run_all.sh does, and
# passes -DTINYIMAPD_COMPRESS=ON with it; docs/TARGETS.md):
#
#   zlib=$(bash tests/deps/build_zlib.sh mips $PWD/toolchains/mips-linux-gnu.cmake)
#   ... -DCMAKE_PREFIX_PATH="$prefix;$zlib" -DTINYIMAPD_COMPRESS=ON
#
# Without one, the build goes on without COMPRESS (not advertised).
include(${CMAKE_CURRENT_LIST_DIR}/cmake/DebianCross.cmake)
