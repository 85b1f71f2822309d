# SPDX-License-Identifier: BSD-3-Clause
# External libraries, found once through pkg-config (their CMake configs, where
# they exist, define no imported targets). `make deps` installs them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(DPDK    REQUIRED IMPORTED_TARGET libdpdk>=22.11)
pkg_check_modules(CMOCKA  REQUIRED IMPORTED_TARGET cmocka>=1.1)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
find_package(Threads REQUIRED)
# proto/: protobuf-c runtime and its code generator (protobuf-c-compiler).
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c>=1.3)
find_program(PROTOC_C NAMES protoc-c protoc-gen-c REQUIRED)
# Events and administration (DESIGN.md section 5): the daemons and tools/sluice.
pkg_check_modules(NANOMSG REQUIRED IMPORTED_TARGET nanomsg)
# Tests and tools that read and write capture files.
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)
