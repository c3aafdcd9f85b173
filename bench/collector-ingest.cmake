# SPDX-License-Identifier: MIT
# bench/collector-ingest: included from bench/CMakeLists.txt.
add_executable(collector-ingest ${CMAKE_CURRENT_LIST_DIR}/collector-ingest.c)
target_link_libraries(collector-ingest PRIVATE vigil-common vigil-proto PkgConfig::CURL)
target_compile_definitions(collector-ingest PRIVATE BENCH_LUA="${CMAKE_CURRENT_LIST_DIR}/collector-ingest.lua")
