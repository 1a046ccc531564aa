"""Build minigrad's Cython kernels.

Every ``minigrad/backend/kernels/*.pyx`` becomes one extension module. Flags:

* ``-O3`` always;
* ``-fopenmp`` when the compiler accepts it. Without OpenMP the build still succeeds, the kernels
  run on one thread, and the build says so once here and in ``minigrad.build_info()``;
* ``-march=native`` when the compiler accepts it, unless ``MINIGRAD_PORTABLE=1`` (wheels that must
  run on other CPUs), for every kernel but the depthwise, matrix-product and batch-norm ones.
  Those are always built for the baseline instruction set, without fused multiply-adds
  (``-march=x86-64 -mno-fma`` on x86, after any ``CFLAGS``; see :func:`_baseline`): their vector
  loops are compiled once per instruction set inside the module (``include/depthwise_simd.h``,
  ``include/gemm_simd.h``, ``include/batchnorm_rows.h``) and the fastest the CPU has is chosen at
  import, so a native build runs the same code a wheel ships, and its tests check every path.

The chosen flags are compiled into the modules (the ``MINIGRAD_COMPILE_ARGS`` macro) so that
``build_info()`` reports what was really used.
"""
import glob
import os
import sys
import tempfile

import numpy as np
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _compiler_accepts(compiler, flag, link=False):
    """Compile (and link) a tiny C file with ``flag``; True when the compiler is happy."""
    source = "#include <stdio.h>\nint main(void) { return 0; }\n"
    if flag == "-fopenmp":
        source = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(source)
        try:
            objects = compiler.compile([path], output_dir=tmp, extra_postargs=[flag])
            if link:
                compiler.link_executable(objects, os.path.join(tmp, "probe"), extra_postargs=[flag])
        except Exception:
            return False
    return True


# the modules that compile their loops once per instruction set and choose at import
_DISPATCHED = (".batchnorm", ".depthwise", ".gemm")


class BuildExt(build_ext):
    """Pick the flags this compiler supports, then build every kernel with them."""

    def build_extensions(self):
        compile_args = ["-O3"]
        link_args = []
        is_msvc = self.compiler.compiler_type == "msvc"
        if is_msvc:
            compile_args = ["/O2", "/openmp"]
        else:
            if _compiler_accepts(self.compiler, "-fopenmp", link=True):
                compile_args.append("-fopenmp")
                link_args.append("-fopenmp")
            else:
                print("minigrad: WARNING: the C compiler has no OpenMP; the kernels will run on ONE "
                      "thread (minigrad.build_info()['openmp'] is False).", file=sys.stderr)
            portable = os.environ.get("MINIGRAD_PORTABLE", "") not in ("", "0")
            if not portable and _compiler_accepts(self.compiler, "-march=native"):
                compile_args.append("-march=native")
        baseline = [] if is_msvc else _baseline(self.compiler)
        for ext in self.extensions:
            # these modules dispatch at run time (see the module docstring)
            args = [a for a in compile_args if a != "-march=native"] + baseline \
                if ext.name.endswith(_DISPATCHED) else compile_args
            ext.extra_compile_args = args + ["-Wno-unused-function", "-Wno-unreachable-code"]
            if not is_msvc:
                ext.extra_compile_args.append("-Wno-psabi")   # GCC's note on vector arguments
            ext.extra_link_args = link_args
            ext.define_macros.append(("MINIGRAD_COMPILE_ARGS", '"' + " ".join(args) + '"'))
        super().build_extensions()


def _baseline(compiler):
    """The dispatched modules' flags for their base path, named after any ``CFLAGS`` so that
    those cannot change it: no fused multiply-add in it. With FMA there (``-march=native`` or
    ``-mfma`` in CFLAGS, or an ARM target, where GCC fuses by default), GCC fuses some products
    and not others, and kernels that must give each other's bits do not. On x86 the base path is
    the x86-64 baseline without FMA (the faster paths turn it on for their own functions, with
    ``#pragma GCC target``); elsewhere the compiler is told not to fuse."""
    if _compiler_accepts(compiler, "-march=x86-64"):
        return ["-march=x86-64", "-mno-fma", "-mno-fma4"]
    return ["-ffp-contract=off"] if _compiler_accepts(compiler, "-ffp-contract=off") else []


def _extensions():
    from Cython.Build import cythonize

    kernels = os.path.join("minigrad", "backend", "kernels")
    sources = sorted(glob.glob(os.path.join(kernels, "*.pyx")))
    extensions = [
        Extension(
            "minigrad.backend.kernels." + os.path.splitext(os.path.basename(src))[0],
            [src],
            include_dirs=[np.get_include(), os.path.join(kernels, "include")],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
        for src in sources
    ]
    return cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
