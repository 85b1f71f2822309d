# SPDX-License-Identifier: BSD-3-Clause
# The one place that says which warnings the project builds with.
# Every target of ours calls sluice_target_warnings(); imported libraries come
# in as -isystem and stay quiet.
set(SLUICE_WARNINGS
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef
  -Wvla -Wformat=2)
if(SLUICE_WERROR)
  list(APPEND SLUICE_WARNINGS -Werror)
endif()

function(sluice_target_warnings target)
  target_compile_options(${target} PRIVATE ${SLUICE_WARNINGS})
endfunction()
