# Warnings for every target of the project (not for third-party code).
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
                    -Wpointer-arith -Wformat=2 -Wvla -Wno-unused-parameter)
if(VG_WERROR)
  add_compile_options(-Werror)
endif()
# The library must not depend on the process locale or on errno tricks of _GNU_SOURCE.
add_compile_definitions(_POSIX_C_SOURCE=200809L)
