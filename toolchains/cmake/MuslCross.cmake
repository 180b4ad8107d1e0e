# Shared body of toolchains/<arch>-linux-musl.cmake: cross-compiling for Linux
# with musl libc (OpenWrt's libc) on Debian, without a musl C++ toolchain.
#
#   compiler   clang-14 --target=<arch>-linux-musl, linked with lld
#   libc       Debian's musl-dev:<debian arch> (multiarch: headers in
#              /usr/include/<musl triplet>, libraries in /usr/lib/<musl triplet>,
#              loader /lib/ld-musl-<arch>.so.1)
#   C++        only the *headers* of the glibc cross toolchain's libstdc++
#              (g++-<gnu triplet>), with two glibc names supplied by
#              toolchains/musl/libstdcxx_on_musl.h; the runtime pieces a
#              program needs (libgcc, crtbegin/crtend, and what little of
#              libstdc++.a tinyimapd uses) are linked statically. There is no
#              libstdc++ *runtime* for musl, so the Catch2 unit tests (which
#              need one) are not built; the suite runs the real server under
#              qemu (e2e, e2e_tools: TINYIMAPD_UNIT_TESTS=OFF).
#
# The including file sets:
#   TINYIMAPD_MUSL_TRIPLET   e.g. aarch64-linux-musl
#   TINYIMAPD_GNU_TRIPLET    the glibc cross toolchain to borrow from, e.g. aarch64-linux-gnu
#   TINYIMAPD_MUSL_LOADER    e.g. ld-musl-aarch64.so.1
#   TINYIMAPD_QEMU           e.g. qemu-aarch64
#   CMAKE_SYSTEM_PROCESSOR
#
# clang needs a sysroot that holds musl and nothing of glibc (else it picks
# glibc's crt1.o and libraries): a tree of symbolic links is made at configure
# time, by default in build/deps/sysroot-<musl triplet> of this source tree
# (TINYIMAPD_MUSL_SYSROOT in the environment overrides it). qemu runs the
# programs with -L <sysroot>, where they find the musl loader.
set(CMAKE_SYSTEM_NAME Linux)

set(_musl ${TINYIMAPD_MUSL_TRIPLET})
set(_gnu ${TINYIMAPD_GNU_TRIPLET})
if(DEFINED ENV{TINYIMAPD_MUSL_SYSROOT})
  set(_sysroot $ENV{TINYIMAPD_MUSL_SYSROOT})
else()
  get_filename_component(_sysroot ${CMAKE_CURRENT_LIST_DIR}/../../build/deps/sysroot-${_musl}
                         ABSOLUTE)
endif()

if(NOT EXISTS /usr/lib/${_musl}/libc.a OR NOT EXISTS /lib/${_musl}/libc.so)
  message(FATAL_ERROR "musl for ${_musl} is missing: install musl-dev for the target's Debian "
                      "architecture (tests/install_deps.sh does)")
endif()
file(GLOB _gcc_dirs LIST_DIRECTORIES true /usr/lib/gcc-cross/${_gnu}/*)
list(SORT _gcc_dirs COMPARE NATURAL ORDER DESCENDING)
list(GET _gcc_dirs 0 _gcc_dir)
get_filename_component(_gcc_version ${_gcc_dir} NAME)
set(_cxx_include /usr/${_gnu}/include/c++/${_gcc_version})
if(NOT EXISTS ${_gcc_dir}/libgcc.a OR NOT EXISTS ${_cxx_include}/cstddef)
  message(FATAL_ERROR "g++-${_gnu} is missing (its libgcc and libstdc++ headers are used)")
endif()

# The sysroot: musl's headers and libraries, the loader, and GCC's runtime
# objects where clang looks for a GCC installation.
function(_tinyimapd_link target name)
  if(NOT EXISTS ${name} AND NOT IS_SYMLINK ${name})
    file(CREATE_LINK ${target} ${name} SYMBOLIC)
  endif()
endfunction()
# clang looks under the normalised triple (aarch64-unknown-linux-musl).
string(REPLACE "-linux-" "-unknown-linux-" _musl_normalised ${_musl})
set(_gcc_link_dir ${_sysroot}/usr/lib/gcc/${_musl_normalised}/${_gcc_version})
file(MAKE_DIRECTORY ${_gcc_link_dir} ${_sysroot}/lib)
_tinyimapd_link(/usr/include/${_musl} ${_sysroot}/usr/include)
file(GLOB _musl_files /usr/lib/${_musl}/*)
foreach(_f ${_musl_files})
  get_filename_component(_n ${_f} NAME)
  _tinyimapd_link(${_f} ${_sysroot}/usr/lib/${_n})
endforeach()
_tinyimapd_link(/lib/${_musl}/libc.so ${_sysroot}/usr/lib/libc.so)
_tinyimapd_link(/lib/${_musl}/libc.so ${_sysroot}/lib/${TINYIMAPD_MUSL_LOADER})
foreach(_n crtbegin.o crtbeginS.o crtbeginT.o crtend.o crtendS.o libgcc.a libgcc_eh.a libstdc++.a
           libsupc++.a)
  if(EXISTS ${_gcc_dir}/${_n})
    _tinyimapd_link(${_gcc_dir}/${_n} ${_gcc_link_dir}/${_n})
  endif()
endforeach()

set(CMAKE_SYSROOT ${_sysroot})
set(CMAKE_C_COMPILER clang-14)
set(CMAKE_CXX_COMPILER clang++-14)
set(CMAKE_C_COMPILER_TARGET ${_musl})
set(CMAKE_CXX_COMPILER_TARGET ${_musl})
set(CMAKE_STRIP ${_gnu}-strip CACHE FILEPATH "strip for the target")
set(CMAKE_AR ${_gnu}-ar CACHE FILEPATH "ar for the target")
set(CMAKE_RANLIB ${_gnu}-ranlib CACHE FILEPATH "ranlib for the target")

# --gcc-toolchain: the GCC runtime objects in the sysroot, not the glibc cross
# GCC clang would otherwise find (and with it glibc's headers).
set(CMAKE_C_FLAGS_INIT "--gcc-toolchain=${_sysroot}/usr")
# libstdc++'s headers ahead of musl's (its <cstdlib> include_next's <stdlib.h>).
set(CMAKE_CXX_FLAGS_INIT
    "--gcc-toolchain=${_sysroot}/usr -nostdinc++ -isystem ${_cxx_include} -isystem ${_cxx_include}/${_gnu} -isystem ${_cxx_include}/backward -include ${CMAKE_CURRENT_LIST_DIR}/../musl/libstdcxx_on_musl.h")
# The three glibc-only symbols the borrowed GCC runtime refers to
# (toolchains/musl/glibc_compat.c), as one object every program links.
set(_compat_source ${CMAKE_CURRENT_LIST_DIR}/../musl/glibc_compat.c)
set(_compat_object ${_sysroot}/usr/lib/tinyimapd_glibc_compat.o)
if(NOT EXISTS ${_compat_object} OR ${_compat_source} IS_NEWER_THAN ${_compat_object})
  execute_process(
    COMMAND clang-14 --target=${_musl} --sysroot=${_sysroot} -O2 -Wall -Wextra -Werror -fPIC
            -c ${_compat_source} -o ${_compat_object}
    RESULT_VARIABLE _compat_result)
  if(NOT _compat_result EQUAL 0)
    message(FATAL_ERROR "cannot compile ${_compat_source} for ${_musl}")
  endif()
endif()

# No libgcc_s.so or libstdc++.so for musl: both statically, always.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld -static-libgcc -static-libstdc++ ${_compat_object}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-fuse-ld=lld -static-libgcc -static-libstdc++")

set(CMAKE_FIND_ROOT_PATH ${_sysroot} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Catch2's unit tests need a C++ runtime for the target; there is none.
set(TINYIMAPD_UNIT_TESTS OFF CACHE BOOL "Build the C++ unit tests (need a libstdc++ for the target)")

set(CMAKE_CROSSCOMPILING_EMULATOR ${TINYIMAPD_QEMU};-L;${_sysroot})
# The same, in the cache, for scripts that run a built program (the report
# stage of tests/run_all.sh reads it from CMakeCache.txt).
set(TINYIMAPD_EMULATOR "${CMAKE_CROSSCOMPILING_EMULATOR}" CACHE STRING
    "How to run the target's programs on the build machine" FORCE)
