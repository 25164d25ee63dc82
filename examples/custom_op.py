"""How to add an op: a ``deepcore.autograd.Function`` with forward and backward on arrays.

    .venv/bin/python examples/custom_op.py [--quick]

1. ``Swish.forward(x)`` computes x * sigmoid(x) on NumPy (or CuPy) arrays and saves what the
   backward needs; ``Swish.backward(g)`` returns dL/dx from dL/dy = g.
2. ``dc.autograd.grad_check`` compares that backward with central differences in float64.
3. ``Swish.apply(x)`` inside a layer's ``call`` records the op in the graph, so ``fit`` trains
   through it.

A CUDA kernel for it (see README "Kernels"): write ``kernels/swish.cu`` (``swish_forward``,
``swish_backward``), load it in ``deepcore/backend/cuda_kernels.py`` into that module's
``KERNELS``, add the names to ``KERNEL_NAMES`` in ``deepcore/backend/kernel_table.py`` with a
NumPy version in ``backend/reference.py`` (the oracle the tests compare against), and call
``kernels(x).swish_forward(x)`` in forward instead of the ``xp`` code: the table picks the CUDA,
numba or reference version for the device ``x`` lives on.
"""
import argparse

import numpy as np

import deepcore as dc
from deepcore.autograd import Function, grad_check
from deepcore.backend import get_array_module


class Swish(Function):
    """y = x * sigmoid(x); dy/dx = s + x * s * (1 - s) with s = sigmoid(x)."""

    def forward(self, x):
        xp = get_array_module(x)  # NumPy on the CPU, CuPy on a GPU
        self.x = x
        self.s = (0.5 * (xp.tanh(0.5 * x) + 1)).astype(x.dtype, copy=False)  # sigmoid without overflow
        return x * self.s

    def backward(self, g):
        s = self.s
        return g * (s + self.x * s * (1 - s))


class SwishLayer(dc.layers.Layer):
    """The op as a layer, so a model can use it."""

    def call(self, inputs):
        return Swish.apply(inputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    args = parser.parse_args()
    dc.utils.set_random_seed(0)

    x = np.random.default_rng(0).standard_normal((4, 5))  # float64, as grad_check requires
    error = grad_check(Swish.apply, [x])
    print(f"grad_check(Swish) passed: largest |analytic - numeric| = {error:.2e}")

    # a regression that needs the nonlinearity: y = sin(3 x)
    rng = np.random.default_rng(1)
    inputs = rng.uniform(-1, 1, (512, 1)).astype(np.float32)
    targets = np.sin(3 * inputs)
    model = dc.Sequential([
        dc.Input((1,)),
        dc.layers.Dense(32), SwishLayer(),
        dc.layers.Dense(32), SwishLayer(),
        dc.layers.Dense(1),
    ])
    model.compile(optimizer=dc.optimizers.Adam(0.01), loss="mse")
    history = model.fit(inputs, targets, batch_size=64, epochs=10 if args.quick else 100, verbose=0)
    losses = history.history["loss"]
    print(f"model with the Swish op: training mse {losses[0]:.4f} -> {losses[-1]:.4f}")


if __name__ == "__main__":
    main()
