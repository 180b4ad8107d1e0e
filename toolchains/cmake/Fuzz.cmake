# TINYIMAPD_FUZZ: libFuzzer targets (clang only).
#
# With the option ON, *everything* in the tree is compiled with
#   -fsanitize=fuzzer-no-link,address,undefined
# so the code under test carries coverage instrumentation and sanitizer
# checks; only the fuzz executables link libFuzzer itself (-fsanitize=fuzzer).
# Configure a separate build directory for it, e.g.
#   CC=clang-14 CXX=clang++-14 cmake -G Ninja -B build/fuzz \
#       -DTINYIMAPD_FUZZ=ON -DTINYIMAPD_TESTS=OFF
#
# tinyimapd_add_fuzzer(<name> <source>... [LIBRARIES <lib>...])
#   Builds the libFuzzer executable <name> (the sources define
#   LLVMFuzzerTestOneInput), linked with tinyimapd_core and any LIBRARIES
#   (e.g. tinyimapd_sim). Optional companions, picked up by convention:
#     tests/fuzz/corpus/<name>/   seed corpus (read-only; never written to)
#     tests/fuzz/<name>.dict      libFuzzer dictionary
#   Each fuzzer is listed in ${CMAKE_BINARY_DIR}/fuzzers.txt, one per line:
#     <name> TAB <executable> TAB <seed corpus dir or -> TAB <dict or ->
#   which is what tests/run_all.sh reads to run them.
#
# The list file is written by tinyimapd_write_fuzzer_list(), called once at
# the end of tests/fuzz/CMakeLists.txt (also when there are no fuzzers, so
# that the runner can tell "none" from "not configured").
if(NOT TINYIMAPD_FUZZ)
  return()
endif()

if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR
    "TINYIMAPD_FUZZ needs clang (libFuzzer); configure with CXX=clang++-14. "
    "Current compiler: ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER}")
endif()

# -fno-sanitize-recover: a UBSan finding must be a crash, or the fuzzer would
# only print it and carry on. -fno-sanitize=vptr: core is built without RTTI
# (see Sanitizers.cmake). -g and frame pointers for readable reports.
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vptr
                    -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=address,undefined)
# Sessions check their own output's framing (see Sanitizers.cmake).
add_compile_definitions(TINYIMAPD_CHECK_FRAMING)

set(TINYIMAPD_FUZZ_LIST_FILE ${CMAKE_BINARY_DIR}/fuzzers.txt)

function(tinyimapd_add_fuzzer name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "LIBRARIES")
  if(NOT arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tinyimapd_add_fuzzer(${name}): no sources")
  endif()
  add_executable(${name} ${arg_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE tinyimapd_core ${arg_LIBRARIES} tinyimapd_warnings)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)

  set(corpus -)
  if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
    set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  endif()
  set(dict -)
  if(EXISTS ${PROJECT_SOURCE_DIR}/tests/fuzz/${name}.dict)
    set(dict ${PROJECT_SOURCE_DIR}/tests/fuzz/${name}.dict)
  endif()
  set_property(GLOBAL APPEND PROPERTY TINYIMAPD_FUZZERS
               "${name}\t$<TARGET_FILE:${name}>\t${corpus}\t${dict}\n")
endfunction()

function(tinyimapd_write_fuzzer_list)
  get_property(entries GLOBAL PROPERTY TINYIMAPD_FUZZERS)
  # Entries end in "\n" already; join them without the list's ";".
  string(JOIN "" content ${entries})
  file(GENERATE OUTPUT ${TINYIMAPD_FUZZ_LIST_FILE} CONTENT "${content}")
endfunction()
