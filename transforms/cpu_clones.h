// PTJS_CPU_CLONES before a function with a hot vectorisable loop: GCC builds it for AVX-512,
// AVX2 and baseline x86-64 and picks one at load time for the CPU it runs on. Only for loops
// whose result cannot depend on the instructions (integer sums, element-wise float operations
// in the same order): every version gives the same bytes. Off under the sanitizers and clang.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
#define PTJS_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PTJS_CPU_CLONES
#endif
