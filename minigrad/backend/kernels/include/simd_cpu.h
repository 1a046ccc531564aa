/* simd_cpu.h: which instruction sets ("paths") this CPU can run, and how a plain loop rounds as a
 * path's vector blocks do (MG_MADD), shared by the kernel modules that compile their loops once
 * per path (depthwise_simd.h, gemm_simd.h):
 *
 *   path 0, "base":   the baseline instruction set of the build (always);
 *   path 1, "avx2":   AVX2 with FMA;
 *   path 2, "avx512": AVX-512 F/BW/DQ/VL, with AVX2 and FMA.
 *
 * Paths 1 and 2 exist only on x86 with GCC (MG_X86_PATHS), whose "#pragma GCC target" compiles
 * a function for an instruction set the rest of the module is not built for. */
#ifndef MINIGRAD_SIMD_CPU_H
#define MINIGRAD_SIMD_CPU_H

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#define MG_X86_PATHS 1
#endif

/* 1 when this CPU (and its operating system) can run path `path`, else 0. */
static int mg_path_supported(int path)
{
    if (path == 0)
        return 1;
#ifdef MG_X86_PATHS
    __builtin_cpu_init();
    if (path == 1)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (path == 2)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return 0;
}

/* The fastest path this CPU supports. */
static int mg_best_path(void)
{
    for (int path = 2; path > 0; path--)
        if (mg_path_supported(path))
            return path;
    return 0;
}

/* The path choice of one kernel module, `pre` its name prefix: from `path_t`, a struct of the
 * path's functions, and TABLE(p), the struct's initialiser for path p (its functions' names with p
 * pasted on), MG_PATH_CHOICE(pre, path_t, TABLE) defines
 *
 *   pre_paths[3]     the three paths' tables (base thrice where only base exists);
 *   pre_current      the table of the path in use, through which the module's calls go;
 *   pre_set_path(p)  use path p from now on: -1 (and no change) when the CPU cannot run it.
 *                    Called with the GIL held, never while a kernel runs;
 *   pre_get_path()   the path in use. */
#ifdef MG_X86_PATHS
#define MG_PATH_TABLES(TABLE) { TABLE(base), TABLE(avx2), TABLE(avx512) }
#else
#define MG_PATH_TABLES(TABLE) { TABLE(base), TABLE(base), TABLE(base) }
#endif
#define MG_PATH_CHOICE(pre, path_t, TABLE)                                                        \
    static const path_t pre##_paths[3] = MG_PATH_TABLES(TABLE);                                   \
    static int pre##_path_index = 0;                                                              \
    static path_t pre##_current = TABLE(base);                                                    \
    static int pre##_set_path(int path)                                                           \
    {                                                                                             \
        if (path < 0 || path > 2 || !mg_path_supported(path))                                     \
            return -1;                                                                            \
        pre##_path_index = path;                                                                  \
        pre##_current = pre##_paths[path];                                                        \
        return 0;                                                                                 \
    }                                                                                             \
    static int pre##_get_path(void)                                                               \
    {                                                                                             \
        return pre##_path_index;                                                                  \
    }

/* acc + x * y in the plain loops that finish a vector loop (its last channels or columns), rounded
 * as that path's vector blocks round it: one fused multiply-add where `fused` (the paths with FMA,
 * whose vector blocks GCC fuses), else a product then a sum. Written out because the compiler
 * would otherwise decide, and decided differently where the bits must agree: it fused a scalar
 * loop but vectorised the same loop without fusing when a one-column matrix had row stride 1
 * (gemm), and fused a block of several pixels but not one pixel alone, which the depthwise
 * forward that reads x in place computes at the image's edges (measured on AVX-512). */
#define MG_MADD(fused, x, y, acc)                                                                 \
    ((fused) ? _Generic((acc), float: __builtin_fmaf, double: __builtin_fma)(x, y, acc)          \
             : (acc) + (x) * (y))

#endif
