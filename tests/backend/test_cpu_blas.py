"""``cpu_blas.gemm`` (the single-threaded GEMM every CPU kernel calls) against NumPy's ``@``: each operand
layout, leading dimensions wider than the view, accumulation, both dtypes, outputs narrower and wider
than ``NARROW`` (OpenBLAS and, where installed, MKL); which BLAS got bound; and the OpenBLAS fallback
run end to end in a fresh process (the binding is per process)."""
import importlib.metadata
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deepcore.backend import cpu_blas

RTOL = {np.float32: 1e-4, np.float64: 1e-12}


def random(seed, dtype, *shape):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def layouts(x):
    """x as a C-contiguous array, as the transpose of an F-ordered copy, and as a view inside a wider array."""
    wide = np.zeros((x.shape[0], x.shape[1] + 3), x.dtype)
    wide[:, 1:-2] = x
    return [x, np.asfortranarray(x), wide[:, 1:-2]]


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (5, 3, 2), (33, 17, cpu_blas.NARROW - 1),
                                   (40, 70, cpu_blas.NARROW), (64, 9, 130)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_matches_numpy_for_every_layout(m, k, n, dtype):
    a, b = random(0, dtype, m, k), random(1, dtype, k, n)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    scale = float(np.abs(expected).max())
    for a_view in layouts(a):
        for b_view in layouts(b):
            c = np.full((m, n), np.nan, dtype)
            cpu_blas.gemm(a_view, b_view, c, False)
            np.testing.assert_allclose(c, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)
    base = random(2, dtype, m, n)
    wide = np.zeros((m, n + 4), dtype)
    wide[:, 2:-2] = base
    cpu_blas.gemm(a.T.copy().T, b, wide[:, 2:-2], True)  # accumulate into a strided output
    np.testing.assert_allclose(wide[:, 2:-2], base + expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)
    assert not wide[:, :2].any() and not wide[:, -2:].any()  # nothing written outside the view


def test_gemm_rejects_an_operand_without_a_unit_stride():
    a = random(0, np.float32, 6, 8)[::2, ::2]
    with pytest.raises(ValueError, match="unit stride"):
        cpu_blas.gemm(a, random(1, np.float32, 4, 5), np.empty((3, 5), np.float32), False)


def test_mkl_is_bound_when_installed_and_not_declined():
    try:
        version = importlib.metadata.version("mkl")
    except importlib.metadata.PackageNotFoundError:
        assert cpu_blas.BLAS == "openblas (scipy)"
        return
    expected = "openblas (scipy)" if os.environ.get("DEEPCORE_BLAS", "").lower() == "openblas" else f"mkl {version}"
    assert cpu_blas.BLAS.startswith(expected)


def test_openblas_fallback_runs_the_kernels():
    """DEEPCORE_BLAS=openblas in a fresh process: matmul and a convolution (forward and both gradients)
    match the NumPy reference on SciPy's OpenBLAS."""
    script = textwrap.dedent("""
        import numpy as np
        from deepcore.backend import cpu_blas, reference
        from deepcore.backend.cpu_kernels import KERNELS
        assert cpu_blas.BLAS == "openblas (scipy)", cpu_blas.BLAS
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal((70, 40)), rng.standard_normal((40, 30))
        np.testing.assert_allclose(KERNELS["matmul"](a, b), a @ b, rtol=1e-12, atol=1e-12)
        x, w = rng.standard_normal((2, 9, 9, 5)), rng.standard_normal((3, 3, 5, 20))
        args = ((1, 1), ((1, 1), (1, 1)), (1, 1))
        y = KERNELS["conv2d_forward"](x, w, *args)
        np.testing.assert_allclose(y, reference.conv2d_forward(x, w, *args), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(KERNELS["conv2d_backward_filter"](x, y, w.shape, *args),
                                   reference.conv2d_backward_filter(x, y, w.shape, *args), rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(KERNELS["conv2d_backward_data"](y, w, x.shape, *args),
                                   reference.conv2d_backward_data(y, w, x.shape, *args), rtol=1e-10, atol=1e-9)
        print("ok")
    """)
    env = dict(os.environ, DEEPCORE_BLAS="openblas")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
