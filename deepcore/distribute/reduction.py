"""Loss and metric values over every rank's samples.

Every deepcore metric accumulates additive state (sums and counts: Mean's total and count, the
confusion counts of Precision/Recall/AUC/F1), so the global result is ``result()`` computed on the
element-wise sum of every rank's state. A metric's state is what its ``reset_state()`` assigns.
"""
from __future__ import annotations

import numpy as np

from ..backend.device import to_device


class _AssignmentRecorder:
    """Stands in for a metric during ``reset_state()`` and records the names it assigns."""

    def __init__(self, metric):
        object.__setattr__(self, "metric", metric)
        object.__setattr__(self, "names", [])

    def __getattr__(self, name):
        return getattr(self.metric, name)

    def __setattr__(self, name, value):
        self.names.append(name)


def metric_state_names(metric) -> list:
    """The attributes holding ``metric``'s accumulated state."""
    recorder = _AssignmentRecorder(metric)
    type(metric).reset_state(recorder)
    return recorder.names


def reduced_results(metrics, communicator) -> dict:
    """{name: result} of each metric as if one process had seen every rank's updates.

    One allreduce of every state packed into a float64 vector (and one small allgather of the state shapes:
    a rank that saw no batch still holds the scalar 0.0 its reset_state set). The local states are left
    as they were, so accumulation continues.
    """
    names = [metric_state_names(metric) for metric in metrics]
    local = [[np.asarray(to_device(getattr(metric, name), "cpu"), np.float64) for name in state]
             for metric, state in zip(metrics, names)]
    shapes = [[a.shape for a in states] for states in local]
    every_shape = communicator.allgather_object(shapes)
    targets = [[max((ranks[i][j] for ranks in every_shape), key=len) for j in range(len(states))]
               for i, states in enumerate(local)]
    flat = np.concatenate([np.broadcast_to(a, shape).ravel() for states, row in zip(local, targets)
                           for a, shape in zip(states, row)] or [np.zeros(0)])
    communicator.allreduce_sum(flat)
    results, offset = {}, 0
    for metric, state, row in zip(metrics, names, targets):
        saved = {name: getattr(metric, name) for name in state}
        for name, shape in zip(state, row):
            size = int(np.prod(shape))
            setattr(metric, name, flat[offset:offset + size].reshape(shape))
            offset += size
        try:
            results[metric.name] = metric.result()
        finally:
            for name, value in saved.items():
                setattr(metric, name, value)
    return results
