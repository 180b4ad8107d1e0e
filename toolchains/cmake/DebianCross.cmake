# Shared body of the toolchains/<triplet>.cmake files: cross-compiling for
# Linux with Debian's cross compilers (g++-<triplet>) and multiarch
# libraries (libfoo-dev:<arch>, installed in /usr/lib/<triplet>).
#
# The including file sets:
#   TINYIMAPD_TARGET_TRIPLET  GNU triplet, e.g. aarch64-linux-gnu
#   CMAKE_SYSTEM_PROCESSOR    e.g. aarch64
#   TINYIMAPD_QEMU            qemu-user binary for the target, e.g. qemu-aarch64
# and may set:
#   TINYIMAPD_CROSS_FLAGS     extra compiler flags for the target (string)
#
# Where things are on a Debian multiarch system:
#   /usr/<triplet>/{lib,include}  the cross libc/libstdc++ (used by the compiler)
#   /usr/lib/<triplet>/           target libraries (libmbedtls.so, ...)
#   /usr/include/                 headers; mbedTLS's are architecture-independent
#   /usr/lib/cmake/Catch2/        Catch2 v2 package config (header-only)
set(CMAKE_SYSTEM_NAME Linux)

set(CMAKE_C_COMPILER   ${TINYIMAPD_TARGET_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${TINYIMAPD_TARGET_TRIPLET}-g++)
# Binutils of the target (ar/ranlib/strip/...). CMake finds most of them from
# the compiler's name, but be explicit for strip: run_all.sh and packaging
# read CMAKE_STRIP from the cache.
set(CMAKE_STRIP ${TINYIMAPD_TARGET_TRIPLET}-strip CACHE FILEPATH "strip for the target")

# Multiarch headers (mbedtls/, catch2/) are in the host's /usr/include. Search
# it *after* the cross compiler's own directories, so that a host libc or
# libstdc++ header can never shadow the target's. CMake's compiler probe then
# lists /usr/include as an implicit directory and drops any -I/usr/include
# that find_path() results would otherwise add in front.
set(CMAKE_C_FLAGS_INIT "-idirafter /usr/include ${TINYIMAPD_CROSS_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "-idirafter /usr/include ${TINYIMAPD_CROSS_FLAGS}")

# Search only target locations for libraries, headers and packages; programs
# (the build tools) come from the host. The roots are the cross sysroot and
# "/" — the latter so that find_library() sees /usr/lib/<triplet> (multiarch)
# and find_package() sees /usr/lib/cmake. CMAKE_LIBRARY_ARCHITECTURE makes
# CMake look in lib/<triplet> before lib/, so a host library in
# /usr/lib/x86_64-linux-gnu is never picked up.
set(CMAKE_LIBRARY_ARCHITECTURE ${TINYIMAPD_TARGET_TRIPLET})
set(CMAKE_FIND_ROOT_PATH /usr/${TINYIMAPD_TARGET_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest (and any add_custom_command/add_test running a target binary) goes
# through qemu-user. -L makes QEMU look up absolute paths under the cross
# sysroot first, so the program gets /usr/<triplet>/lib/<loader>.
#
# LD_LIBRARY_PATH matters: libmbedtls-dev:<arch> pulls in the multiarch
# libc6:<arch> (/lib/<triplet>/libc.so.6), which the target loader finds in its
# default path before the cross libc. Loader and libc then come from two
# different glibc builds (libc6-<arch>-cross vs libc6:<arch>); on s390x that
# aborts every program at start-up with "stack smashing detected". Putting the
# cross sysroot first keeps loader, libc and libstdc++ from one build — the
# one we linked against. libmbedtls.so.* is still found in /usr/lib/<triplet>.
set(CMAKE_CROSSCOMPILING_EMULATOR
    ${TINYIMAPD_QEMU};-L;/usr/${TINYIMAPD_TARGET_TRIPLET};-E;LD_LIBRARY_PATH=/usr/${TINYIMAPD_TARGET_TRIPLET}/lib)
# The same, in the cache, for scripts that run a built program (the report
# stage of tests/run_all.sh reads it from CMakeCache.txt).
set(TINYIMAPD_EMULATOR "${CMAKE_CROSSCOMPILING_EMULATOR}" CACHE STRING
    "How to run the target's programs on the build machine" FORCE)
