# SPDX-License-Identifier: MIT
add_compile_options(-Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter -Wmissing-prototypes
        -Wstrict-prototypes -Wno-missing-field-initializers -fno-strict-aliasing)
if(VIGIL_WERROR OR DEFINED ENV{CI})
        add_compile_options(-Werror)
endif()
if(VIGIL_SANITIZE)
        add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
        add_link_options(-fsanitize=address,undefined)
endif()
