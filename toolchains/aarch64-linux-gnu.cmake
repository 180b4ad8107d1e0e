# Cross toolchain: 64-bit ARM (aarch64) Linux, Debian multiarch.
#
#   cmake -G Ninja -B build/aarch64 \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
#
# Needs (Debian 12): g++-aarch64-linux-gnu, libmbedtls-dev:arm64, zlib1g-dev:arm64, catch2,
# qemu-user — tests/install_deps.sh installs them all. ctest runs the
# target's test binaries under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR).
set(TINYIMAPD_TARGET_TRIPLET aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(TINYIMAPD_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/cmake/DebianCross.cmake)
