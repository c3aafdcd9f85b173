# SPDX-License-Identifier: MIT
# add_unit_test(NAME SOURCES... LIBS lib...): a cmocka test run by CTest with label "unit".
function(add_unit_test name)
        cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
        add_executable(${name} ${T_UNPARSED_ARGUMENTS})
        target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
        add_test(NAME ${name} COMMAND ${name})
        set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()
