# TINYIMAPD_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer for the
# whole tree, failing hard on the first report.
if(TINYIMAPD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
