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


class _GradMode(contextlib.ContextDecorator):
    """Sets whether ops record the graph for the ``with`` block (or decorated function) and restores the
    previous setting after. A class rather than a generator context manager: ~3x cheaper to enter and leave,
    and inference runs one per call."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.previous = []

    def _recreate_cm(self):  # a decorated function gets its own instance per call (threads, recursion)
        return _GradMode(self.enabled)

    def __enter__(self):
        self.previous.append(getattr(_grad_state, "enabled", True))
        _grad_state.enabled = self.enabled
        return None

    def __exit__(self, *exc):
        _grad_state.enabled = self.previous.pop()
        return False


def no_grad():
    """Run ops without recording the graph (inference, optimizer updates)."""
    return _GradMode(False)


def enable_grad():
    return _GradMode(True)


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
