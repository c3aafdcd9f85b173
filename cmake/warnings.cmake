# SPDX-License-Identifier: MIT
add_compile_options(-Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter -Wmissing-prototypes
        -Wstrict-prototypes -Wno-missing-field-initializers -fno-strict-aliasing)
if(VIGIL_WERROR OR DEFINED ENV{CI})
        add_compile_options(-Werror)
endif()
# Symbols bound at start-up (and the GOT read-only after): every probe child is a fork, and with lazy
# binding each child resolved again every libc function the parent had not called yet, some 10 % of
# the agent's CPU (perf).
add_link_options(-Wl,-z,now -Wl,-z,relro)
if(VIGIL_SANITIZE)
        # GCC's object-size warnings misfire on ASan-instrumented code (e.g. strchr after an inline
        # prefix match, "region of size 0"); the sanitizers check those accesses at run time.
        add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                $<$<C_COMPILER_ID:GNU>:-Wno-stringop-overread>)
        add_link_options(-fsanitize=address,undefined)
endif()
