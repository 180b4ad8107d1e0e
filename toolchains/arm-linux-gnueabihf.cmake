# Cross toolchain: 32-bit ARM hard-float (armhf, ARMv7) Linux, Debian multiarch.
#
#   cmake -G Ninja -B build/armhf \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
#
# Needs (Debian 12): g++-arm-linux-gnueabihf, libmbedtls-dev:armhf, zlib1g-dev:armhf, catch2,
# qemu-user — tests/install_deps.sh installs them all. ctest runs the
# target's test binaries under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR).
set(TINYIMAPD_TARGET_TRIPLET arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(TINYIMAPD_QEMU qemu-arm)
# GCC notes that passing some structs changed ABI in GCC 7.1 (-Wpsabi); it
# only matters when mixing objects from GCC < 7.1, which we never do, and it
# floods the log for every std::sort over iterators (Catch2).
set(TINYIMAPD_CROSS_FLAGS -Wno-psabi)
include(${CMAKE_CURRENT_LIST_DIR}/cmake/DebianCross.cmake)
