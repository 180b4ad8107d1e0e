# Cross toolchain: 64-bit ARM (aarch64) Linux with musl libc — with mbedTLS
# 3.6, the OpenWrt 24.10 combination. clang-14 against Debian's musl-dev:arm64,
# with only the headers of libstdc++ (see cmake/MuslCross.cmake, docs/TARGETS.md):
#
#   prefix=$(bash tests/deps/build_mbedtls.sh aarch64-musl $PWD/toolchains/aarch64-linux-musl.cmake)
#   cmake -G Ninja -B build/aarch64-musl -DCMAKE_PREFIX_PATH=$prefix \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-musl.cmake
#
# Needs (Debian 12): clang-14, lld-14, musl-dev:arm64, g++-aarch64-linux-gnu,
# qemu-user — see tests/install_deps.sh. ctest runs the binaries under
# qemu-aarch64; their interpreter is /lib/ld-musl-aarch64.so.1.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(TINYIMAPD_MUSL_TRIPLET aarch64-linux-musl)
set(TINYIMAPD_GNU_TRIPLET aarch64-linux-gnu)
set(TINYIMAPD_MUSL_LOADER ld-musl-aarch64.so.1)
set(TINYIMAPD_QEMU qemu-aarch64)
# COMPRESS=DEFLATE needs a zlib for the target, which Debian does not have:
# tests/deps/build_zlib.sh builds a static one (tests/run_all.sh does, and
# passes -DTINYIMAPD_COMPRESS=ON with it; docs/TARGETS.md):
#
#   zlib=$(bash tests/deps/build_zlib.sh aarch64-musl $PWD/toolchains/aarch64-linux-musl.cmake)
#   ... -DCMAKE_PREFIX_PATH="$prefix;$zlib" -DTINYIMAPD_COMPRESS=ON
#
# Without one, the build goes on without COMPRESS (not advertised).
include(${CMAKE_CURRENT_LIST_DIR}/cmake/MuslCross.cmake)
