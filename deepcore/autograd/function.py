"""Function: one differentiable op = ``forward`` on arrays + ``backward`` on arrays.

A subclass implements ``forward(*arrays) -> array`` and
``backward(grad_output) -> tuple of input gradients`` (``None`` for an input
that needs none), saving what backward needs on ``self``. ``Fn.apply(...)``
(or ``Fn(**options)(...)``) wraps inputs into Tensors, runs forward, and, when gradients are enabled and
any input requires one, records the node in the graph.
"""
from __future__ import annotations

import contextlib
import threading

from .tensor import Tensor, as_tensor

_grad_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_grad_state, "enabled", True)


@contextlib.contextmanager
def no_grad():
    """Run ops without recording the graph (inference, optimizer updates)."""
    previous = is_grad_enabled()
    _grad_state.enabled = False
    try:
        yield
    finally:
        _grad_state.enabled = previous


@contextlib.contextmanager
def enable_grad():
    previous = is_grad_enabled()
    _grad_state.enabled = True
    try:
        yield
    finally:
        _grad_state.enabled = previous


class Function:
    """Base class of differentiable ops; see the module docstring."""

    inputs: tuple = ()
    needs_input_grad: tuple = ()

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options):
        """``cls(**options)(*inputs)``: build the node and run it."""
        return cls(**options)(*inputs)

    def __call__(self, *inputs):
        tensors = [x if isinstance(x, Tensor) else as_tensor(x) for x in inputs]
        result = Tensor(self.forward(*[t.data for t in tensors]))
        if getattr(_grad_state, "enabled", True):  # is_grad_enabled(), inlined: this runs once per op
            needs = tuple([t.requires_grad for t in tensors])
            if any(needs):
                self.inputs = tuple(tensors)
                self.needs_input_grad = needs
                result.requires_grad = True
                result._creator = self
        return result
