# Warnings for our own code: everything sane, and errors, not warnings.
add_library(tinyimapd_warnings INTERFACE)
target_compile_options(tinyimapd_warnings INTERFACE
  -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough -Wundef
  -Wmissing-declarations -Wnull-dereference -Wdouble-promotion)

# core: no exceptions, no RTTI (DESIGN.md "Memory: fixed at startup").
add_library(tinyimapd_core_flags INTERFACE)
target_compile_options(tinyimapd_core_flags INTERFACE
  -fno-exceptions -fno-rtti -fno-threadsafe-statics
  -ffunction-sections -fdata-sections)
