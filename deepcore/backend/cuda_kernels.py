"""CUDA kernels (``kernels/*.cu`` through ``cupy.RawModule``).

Empty for now: the GPU runs the generic ``xp`` reference until the
hand-written kernels land (see the GPU-kernels issue).
"""
from __future__ import annotations

KERNELS = {}
