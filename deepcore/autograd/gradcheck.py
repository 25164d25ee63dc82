"""Central-difference gradient check in float64 (Chainer's ``check_backward`` idea)."""
from __future__ import annotations

import numpy as np

from ..backend.device import get_array_module
from .function import enable_grad
from .tensor import Tensor


class GradientCheckError(AssertionError):
    """The analytic gradient of an op disagrees with central differences."""


def grad_check(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4, seed: int = 0):
    """Check ``fn(*tensors)``'s backward against central differences of ``sum(fn(x) * w)``.

    ``inputs`` are float64 arrays; each becomes a Tensor requiring grad. ``w``
    is a fixed random projection so every output element contributes. Returns
    the largest absolute error; raises ``GradientCheckError`` if any entry
    exceeds ``atol + rtol * |numeric|``.
    """
    arrays = [np.asarray(a) if get_array_module(a) is np else a for a in inputs]
    for i, a in enumerate(arrays):
        if a.dtype != np.float64:
            raise TypeError(f"grad_check: input {i} must be float64, got {a.dtype}")
    xp = get_array_module(*arrays)
    with enable_grad():
        tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        out = fn(*tensors)
        rng = np.random.default_rng(seed)
        weights = xp.asarray(rng.standard_normal(out.shape))
        (out * Tensor(weights)).sum().backward()
    analytic = [t.grad if t.grad is not None else xp.zeros_like(t.data) for t in tensors]

    def objective(values):
        return float((fn(*[Tensor(v) for v in values]).data * weights).sum())

    worst = 0.0
    for i, base in enumerate(arrays):
        numeric = xp.zeros(base.shape, base.dtype)  # C order: written through reshape(-1) below
        flat, flat_numeric = base.reshape(-1), numeric.reshape(-1)
        for j in range(flat.size):
            values = [a.copy() for a in arrays]
            values[i].reshape(-1)[j] = flat[j] + eps
            plus = objective(values)
            values[i].reshape(-1)[j] = flat[j] - eps
            minus = objective(values)
            flat_numeric[j] = (plus - minus) / (2 * eps)
        error = xp.abs(analytic[i] - numeric)
        worst = max(worst, float(error.max()) if error.size else 0.0)
        bad = error > atol + rtol * xp.abs(numeric)
        if bool(bad.any()):
            k = int(xp.argmax(error))
            raise GradientCheckError(
                f"grad_check: input {i} (shape {base.shape}): analytic {float(analytic[i].reshape(-1)[k]):.8g} "
                f"vs numeric {float(numeric.reshape(-1)[k]):.8g} at flat index {k}; "
                f"{int(bad.sum())} of {base.size} entries out of tolerance")
    return worst
