"""Fast CPU kernels: NumPy BLAS GEMMs and numba parallel loops.

Each function has the signature of its namesake in ``reference.py`` and is
tested against it. ``KERNELS`` maps kernel names to the versions here.
"""
from __future__ import annotations

KERNELS = {}
