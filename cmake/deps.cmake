# SPDX-License-Identifier: BSD-3-Clause
# External libraries, found once through pkg-config (their CMake configs, where
# they exist, define no imported targets). `make deps` installs them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(DPDK    REQUIRED IMPORTED_TARGET libdpdk>=22.11)
pkg_check_modules(CMOCKA  REQUIRED IMPORTED_TARGET cmocka>=1.1)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
find_package(Threads REQUIRED)
