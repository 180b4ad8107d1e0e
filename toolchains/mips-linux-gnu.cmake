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
# COMPRESS=DEFLATE is off for this target: the suite builds its mbedTLS
# from source but no zlib (docs/TARGETS.md), so the capability is not
# advertised. A zlib for the target in CMAKE_PREFIX_PATH and
# -DTINYIMAPD_COMPRESS=ON turn it on.
set(TINYIMAPD_COMPRESS OFF CACHE BOOL "Build with zlib (COMPRESS=DEFLATE)")
include(${CMAKE_CURRENT_LIST_DIR}/cmake/DebianCross.cmake)
