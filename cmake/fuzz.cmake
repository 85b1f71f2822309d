# SPDX-License-Identifier: BSD-3-Clause
# Coverage-instrumented copies of libraries, for the libFuzzer harnesses in
# tests/fuzz: a fuzzer only finds its way through checks it can see.
#
# sluice_add_cov_library(LIB [FROM TARGET]) makes LIB_cov from the sources
# and link libraries of TARGET (default LIB), compiled with
# -fsanitize=fuzzer-no-link. Only with clang and tests on; elsewhere it does
# nothing, and tests/fuzz links LIB itself. Call it in the directory that
# defines TARGET (its sources are relative to it).
function(sluice_add_cov_library lib)
  cmake_parse_arguments(C "" "FROM" "" ${ARGN})
  if(NOT (BUILD_TESTING AND CMAKE_C_COMPILER_ID MATCHES "Clang"))
    return()
  endif()
  if(NOT C_FROM)
    set(C_FROM ${lib})
  endif()
  get_target_property(_src ${C_FROM} SOURCES)
  get_target_property(_libs ${C_FROM} LINK_LIBRARIES)
  add_library(${lib}_cov STATIC ${_src})
  target_compile_options(${lib}_cov PRIVATE -fsanitize=fuzzer-no-link)
  target_link_libraries(${lib}_cov PUBLIC ${_libs})
  sluice_target_warnings(${lib}_cov)
endfunction()
