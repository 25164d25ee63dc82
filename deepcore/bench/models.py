"""``deepcore bench models``: training and inference throughput of the workloads, deepcore and PyTorch.

A training step is what ``fit`` does per batch: forward, loss, backward and
an SGD-with-momentum update (``train_on_batch`` in deepcore; ``zero_grad``,
forward, ``CrossEntropyLoss``, ``backward``, ``step`` in torch). Inference is
the forward pass alone (``model(x, training=False)`` under ``no_grad``;
``eval()`` and ``inference_mode`` in torch). The batch is synthetic and
already on the device, so no host-to-device copy is timed. Throughput is
images per second: batch size over the seconds per step.

The CLI runs each (workload, framework, device) in a fresh Python process
(``run_isolated``), so that each framework starts its thread pools with its
own defaults, as a user running it alone would: in one process torch shares
the libgomp that numba's OpenMP layer loaded, with the spin count deepcore
sets (``backend/cpu_support.py``), and the second framework inherits the
first one's threads.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback

import numpy as np

from .environment import THREAD_VARIABLES
from .timing import measure, synchronizer
from .workloads import (WORKLOADS, Workload, build_deepcore, build_torch, deepcore_parameter_count,
                        torch_parameter_count)

LEARNING_RATE, MOMENTUM = 0.01, 0.9
MODES = ("train", "inference")
SETTLE_SECONDS = 0.5  # before each measurement: the previous framework's spinning threads go idle


def synthetic_batch(workload: Workload, batch_size: int, seed: int = 0):
    """Channels-last float32 images (or feature vectors) and integer labels, on the host."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch_size, *workload.input_shape), dtype=np.float32)
    y = rng.integers(0, workload.classes, batch_size).astype(np.int32)
    return x, y


def deepcore_modes(workload: Workload, device_name: str, batch_size: int):
    """Yield the parameter counts, then ("train", step) and ("inference", step), all on ``device_name``."""
    import deepcore as dc
    from ..backend import Device

    with dc.device(device_name):
        model = build_deepcore(workload)
        model.compile(optimizer=dc.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
                      loss="sparse_categorical_crossentropy")
        xp = Device(device_name).xp
        x, y = (xp.asarray(a) for a in synthetic_batch(workload, batch_size))
        yield deepcore_parameter_count(model)
        yield "train", lambda: model.train_on_batch(x, y)

        def infer():
            with dc.no_grad():
                return model(x, training=False)

        yield "inference", infer


def torch_modes(workload: Workload, device_name: str, batch_size: int):
    """The same for the torch twin, NCHW."""
    import torch

    target = torch.device("cuda" if device_name == "gpu" else "cpu")
    torch.manual_seed(0)
    model = build_torch(workload).to(target)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    loss_function = torch.nn.CrossEntropyLoss()
    x, y = synthetic_batch(workload, batch_size)
    if x.ndim == 4:
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    x, y = torch.from_numpy(x).to(target), torch.from_numpy(y).long().to(target)
    yield torch_parameter_count(model)

    def train():
        optimizer.zero_grad(set_to_none=True)
        loss_function(model(x), y).backward()
        optimizer.step()

    model.train()
    yield "train", train

    def infer():
        with torch.inference_mode():
            return model(x).softmax(dim=1)

    model.eval()
    yield "inference", infer


def torch_synchronizer(device_name: str):
    if device_name == "cpu":
        return lambda: None
    import torch

    return torch.cuda.synchronize


def torch_unavailable(device_name: str) -> str | None:
    """Why torch cannot run on ``device_name``, or None."""
    try:
        import torch
    except ImportError:
        return "torch is not installed (pip install torch) - skipping the PyTorch comparison"
    if device_name == "gpu" and not torch.cuda.is_available():
        return f"this torch build ({torch.__version__}) has no usable CUDA device"
    return None


def run_workload(workload: Workload, device_name: str, framework: str, batch_size: int | None,
                 warmup: int, steps: int, repeats: int) -> list[dict]:
    """One record per mode: throughput, or status 'skipped'/'error' with a message."""
    batch = workload.batch_size if batch_size is None else batch_size
    base = {"workload": workload.name, "title": workload.title, "device": device_name, "framework": framework,
            "batch_size": batch}
    reason = torch_unavailable(device_name) if framework == "torch" else None
    if reason:
        return [{**base, "mode": mode, "status": "skipped", "message": reason} for mode in MODES]
    make, sync = ((torch_modes, torch_synchronizer(device_name)) if framework == "torch"
                  else (deepcore_modes, synchronizer(device_name)))
    modes = make(workload, device_name, batch)
    records = []
    try:
        parameters = next(modes)
        for mode, step in modes:
            timing = measure(step, sync, warmup, steps, repeats, settle_seconds=SETTLE_SECONDS)
            records.append({**base, "mode": mode, "status": "ok", "parameters": parameters,
                            "images_per_second": timing.rate(batch), **timing.as_record()})
    except Exception as error:  # one broken model must not hide the other numbers
        message = f"{type(error).__name__}: {error}"
        records += [{**base, "mode": mode, "status": "error", "message": message,
                     "traceback": traceback.format_exc()} for mode in MODES[len(records):]]
    finally:
        modes.close()
    return records


def run_isolated(workload: Workload, device_name: str, framework: str, batch_size: int | None, warmup: int,
                 steps: int, repeats: int, threads: int | None) -> list[dict]:
    """``run_workload`` in a fresh Python process on ``threads`` threads (see the module docstring)."""
    job = {"workload": workload.name, "device": device_name, "framework": framework, "batch_size": batch_size,
           "warmup": warmup, "steps": steps, "repeats": repeats, "threads": threads}
    environment = dict(os.environ)
    if threads is not None:  # read by OpenMP and the BLAS libraries when they load
        environment.update({name: str(threads) for name in THREAD_VARIABLES})
    done = subprocess.run([sys.executable, "-m", "deepcore.bench.models", json.dumps(job)], capture_output=True,
                          text=True, env=environment)
    if done.returncode == 0:
        return json.loads(done.stdout.splitlines()[-1])
    message = f"the benchmark process exited with status {done.returncode}: {done.stderr.strip()[-2000:]}"
    return [{"workload": workload.name, "title": workload.title, "device": device_name, "framework": framework,
             "batch_size": batch_size or workload.batch_size, "mode": mode, "status": "error", "message": message}
            for mode in MODES]


def _run_job(job: dict) -> list[dict]:
    """The child side of ``run_isolated``: set the framework's threads, run, return the records."""
    threads = job["threads"]
    if threads is not None and job["framework"] == "torch" and torch_unavailable(job["device"]) is None:
        import torch
        torch.set_num_threads(threads)
    elif threads is not None and job["framework"] == "deepcore":
        import numba

        from ..backend import cpu_kernels  # noqa: F401  (starts numba's pool with deepcore's settings)
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return run_workload(WORKLOADS[job["workload"]], job["device"], job["framework"], job["batch_size"],
                        job["warmup"], job["steps"], job["repeats"])


if __name__ == "__main__":
    print(json.dumps(_run_job(json.loads(sys.argv[1]))))
