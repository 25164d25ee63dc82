"""GradientTape: the custom-training-loop API TensorFlow users know.

Our graph is recorded whenever gradients are enabled, so the tape only has
to run backward and hand back the gradients of the sources it is asked for.
"""
from __future__ import annotations

from .tensor import Tensor


class GradientTape:
    """``with dc.GradientTape() as tape: loss = ...; grads = tape.gradient(loss, model.trainable_weights)``."""

    def __init__(self, persistent=False):
        self.persistent = persistent
        self._used = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def gradient(self, target, sources):
        """d target / d source for each source (a Tensor, or a list of them): arrays, None if unconnected."""
        if self._used and not self.persistent:
            raise RuntimeError("GradientTape.gradient can be called once on a non-persistent tape")
        self._used = True
        if not isinstance(target, Tensor) or not target.requires_grad:
            raise ValueError("GradientTape.gradient: target must be a Tensor computed from trainable variables")
        single = isinstance(sources, Tensor)
        sources = [sources] if single else list(sources)
        saved = [s.grad for s in sources]
        for s in sources:
            s.grad = None
        target.backward()
        grads = [s.grad for s in sources]
        for s, old in zip(sources, saved):
            s.grad = old
        return grads[0] if single else grads
