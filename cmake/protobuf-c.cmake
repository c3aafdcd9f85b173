# SPDX-License-Identifier: MIT
# vigil_protobuf_c(TARGET PROTO...): generate *.pb-c.[ch] in the build tree with protoc-c
# and build them into a static library TARGET.
find_program(PROTOC_C NAMES protoc-c REQUIRED)
function(vigil_protobuf_c target)
        set(srcs)
        foreach(proto ${ARGN})
                get_filename_component(name ${proto} NAME_WE)
                set(c ${CMAKE_CURRENT_BINARY_DIR}/${name}.pb-c.c)
                set(h ${CMAKE_CURRENT_BINARY_DIR}/${name}.pb-c.h)
                add_custom_command(OUTPUT ${c} ${h}
                        COMMAND ${PROTOC_C} --c_out=${CMAKE_CURRENT_BINARY_DIR}
                                -I${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/${proto}
                        DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${proto}
                        COMMENT "protoc-c ${proto}")
                list(APPEND srcs ${c})
        endforeach()
        add_library(${target} STATIC ${srcs})
        target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
        target_link_libraries(${target} PUBLIC PkgConfig::PROTOBUFC)
        # Generated code is not ours to lint.
        target_compile_options(${target} PRIVATE -w)
endfunction()
