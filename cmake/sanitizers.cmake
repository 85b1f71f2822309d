# SPDX-License-Identifier: BSD-3-Clause
# SLUICE_SANITIZE=address,undefined or thread applies to every target.
if(SLUICE_SANITIZE)
  set(_san -fsanitize=${SLUICE_SANITIZE} -fno-omit-frame-pointer)
  if(SLUICE_SANITIZE MATCHES "undefined")
    # A UB report is a test failure, not a line in a log nobody reads.
    list(APPEND _san -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_san})
  add_link_options(${_san})
  add_compile_definitions(SLUICE_SANITIZED=1)
endif()
