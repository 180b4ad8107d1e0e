# Cross toolchain: IBM Z (s390x) Linux, Debian multiarch — our big-endian
# target. Debian ships libmbedtls-dev:s390x, so it builds and tests with TLS.
#
#   cmake -G Ninja -B build/s390x \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/s390x-linux-gnu.cmake
#
# Needs (Debian 12): g++-s390x-linux-gnu, libmbedtls-dev:s390x, zlib1g-dev:s390x, catch2,
# qemu-user — tests/install_deps.sh installs them all. ctest runs the
# target's test binaries under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR).
set(TINYIMAPD_TARGET_TRIPLET s390x-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(TINYIMAPD_QEMU qemu-s390x)
include(${CMAKE_CURRENT_LIST_DIR}/cmake/DebianCross.cmake)
