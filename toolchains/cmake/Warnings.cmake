# Warnings for our own code: everything sane. Errors, not warnings, with
# TINYIMAPD_WERROR=ON: tests/run_all.sh (CI) and the developer commands in
# README.md set it; it is OFF by default so that a packager's newer (or
# older) compiler with a new warning does not break a release build.
option(TINYIMAPD_WERROR "Treat compiler warnings as errors (CI and development)" OFF)
add_library(tinyimapd_warnings INTERFACE)
target_compile_options(tinyimapd_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough -Wundef
  -Wmissing-declarations -Wnull-dereference -Wdouble-promotion)
if(TINYIMAPD_WERROR)
  target_compile_options(tinyimapd_warnings INTERFACE -Werror)
endif()

# core: no exceptions, no RTTI (DESIGN.md "Memory: fixed at startup").
add_library(tinyimapd_core_flags INTERFACE)
target_compile_options(tinyimapd_core_flags INTERFACE
  -fno-exceptions -fno-rtti -fno-threadsafe-statics
  -ffunction-sections -fdata-sections)
