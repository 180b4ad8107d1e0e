# TINYIMAPD_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer for the
# whole tree, failing hard on the first report.
if(TINYIMAPD_SANITIZE)
  # -fno-sanitize=vptr: core and platforms are built with -fno-rtti, and
  # UBSan's vptr check needs the typeinfo of every polymorphic class; a test
  # (built with RTTI) calling through a port interface would otherwise fail
  # to link ("undefined reference to typeinfo for ...PosixLog").
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr
                      -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
  # Every byte a session hands to the loop goes through imap::FramingCheck
  # (core/imap/framing.h); a malformed response traps. Whole tree: the
  # Session's layout depends on it.
  add_compile_definitions(TINYIMAPD_CHECK_FRAMING)
  # TINYIMAPD_ASSERT (core/base/assert.h) checks invariants in this build too.
  add_compile_definitions(TINYIMAPD_ASSERTS)
endif()
