/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small compiler helpers shared by every module. Each is guarded, because
 * DPDK's headers define some of the same names and either may be included
 * first.
 */
#ifndef SLUICE_COMMON_COMPILER_H
#define SLUICE_COMMON_COMPILER_H

#include <stddef.h>

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* One x86-64 cache line; shared layouts assert against this value. */
#define SLUICE_CACHE_LINE    64
#define SLUICE_CACHE_ALIGNED __attribute__((aligned(SLUICE_CACHE_LINE)))

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#ifndef container_of
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#endif

#define SLUICE_UNUSED __attribute__((unused))
#define SLUICE_COLD   __attribute__((cold, noinline))

/* A spin-wait hint: lets the sibling hyperthread run and saves power. */
static inline void
sluice_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif /* SLUICE_COMMON_COMPILER_H */
