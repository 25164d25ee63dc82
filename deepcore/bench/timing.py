"""Honest wall-clock timing: warm-up excluded, device synchronized, repeats summarized.

A measurement runs ``warmup`` untimed calls (numba compilation, CUDA module
loading, allocator growth), then ``repeats`` timed blocks of ``steps`` calls
each. The clock reads after a device synchronize, so queued GPU work is
counted in the block that launched it. Each block gives one rate; the
summary is the median and the min/max over blocks, and a measurement whose
blocks differ by more than ``NOISE_THRESHOLD`` of the median is flagged
``noisy`` (another process, thermal throttling, a GC pause).
"""
from __future__ import annotations

import dataclasses
import statistics
import time

NOISE_THRESHOLD = 0.10


@dataclasses.dataclass
class Timing:
    """Seconds per call of each timed block (``steps`` calls each), and its summary."""

    seconds_per_call: list[float]
    steps: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds_per_call)

    @property
    def spread(self) -> float:
        """(slowest - fastest) / median: 0 for a single repeat."""
        return (max(self.seconds_per_call) - min(self.seconds_per_call)) / self.median

    @property
    def noisy(self) -> bool:
        return self.spread > NOISE_THRESHOLD

    def rate(self, work_per_call: float) -> dict:
        """Work per second (images, FLOPs, bytes): median, min and max over repeats."""
        rates = [work_per_call / seconds for seconds in self.seconds_per_call]
        return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}

    def as_record(self) -> dict:
        return {"seconds_per_call": {"median": self.median, "min": min(self.seconds_per_call),
                                     "max": max(self.seconds_per_call)},
                "steps": self.steps, "repeats": len(self.seconds_per_call),
                "spread": round(self.spread, 4), "noisy": self.noisy}


def measure(call, synchronize, warmup: int, steps: int | None, repeats: int, block_seconds: float = 0.05,
            settle_seconds: float = 0.0) -> Timing:
    """Time ``call()``; ``synchronize()`` waits for the device (a no-op on the CPU).

    ``steps=None`` picks the number of calls per block from one extra timed
    call so that a block lasts about ``block_seconds`` (short kernels would
    otherwise be lost in the clock's resolution and launch overhead).
    ``settle_seconds`` of sleep come first, so that thread pools another
    library left spinning (OpenMP, OpenBLAS busy-wait for a while after each
    parallel region) go idle before this one is timed.
    """
    if (steps is not None and steps < 1) or repeats < 1 or warmup < 0:
        raise ValueError(f"measure: need steps >= 1, repeats >= 1, warmup >= 0; got {steps}, {repeats}, {warmup}")
    time.sleep(settle_seconds)
    for _ in range(warmup):
        call()
    synchronize()
    if steps is None:
        steps = max(1, min(1000, round(block_seconds / max(_block(call, synchronize, 1), 1e-9))))
    return Timing([_block(call, synchronize, steps) for _ in range(repeats)], steps)


def _block(call, synchronize, steps: int) -> float:
    """Seconds per call over ``steps`` back-to-back calls, the device drained at the end."""
    start = time.perf_counter()
    for _ in range(steps):
        call()
    synchronize()
    return (time.perf_counter() - start) / steps


def synchronizer(device_name: str):
    """The wait-for-the-device function of deepcore's arrays on ``device_name``."""
    if device_name == "cpu":
        return lambda: None
    import cupy

    return cupy.cuda.Device().synchronize
