"""What the build used, and how many OpenMP threads this machine offers."""
cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define MINIGRAD_HAVE_OPENMP 1
    #define MINIGRAD_MAX_THREADS() omp_get_max_threads()
    #else
    #define MINIGRAD_HAVE_OPENMP 0
    #define MINIGRAD_MAX_THREADS() 1
    #endif
    #ifndef MINIGRAD_COMPILE_ARGS
    #define MINIGRAD_COMPILE_ARGS ""
    #endif
    """
    int MINIGRAD_HAVE_OPENMP
    int MINIGRAD_MAX_THREADS()
    const char* MINIGRAD_COMPILE_ARGS


def openmp_enabled():
    """True when the kernels were compiled with OpenMP (else they run on one thread)."""
    return bool(MINIGRAD_HAVE_OPENMP)


def compile_args():
    """The compiler flags the kernels were built with, as a list of strings."""
    return MINIGRAD_COMPILE_ARGS.decode().split()


def max_threads():
    """OpenMP's default team size (honours OMP_NUM_THREADS); 1 without OpenMP."""
    return MINIGRAD_MAX_THREADS()
