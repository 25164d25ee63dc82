"""Run the whole benchmark suite on each available device: results/<device>-<date>-<commit>[-ops].json and .png.

    python benchmarks/run_suite.py                 # every device, --compare torch, all threads
    python benchmarks/run_suite.py --threads 2     # options common to `bench models` and `bench ops` go to both
    python benchmarks/render_readme.py             # then: the README's results section from the new files

Set OMP_NUM_THREADS (and friends) in the shell as well when passing --threads:
BLAS reads them once, at NumPy's import (see deepcore/bench/environment.py).
Each JSON gets its bar chart beside it (same name, .png) when matplotlib is installed.
"""
from __future__ import annotations

import datetime
import importlib.util
import os
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str]) -> int:
    from deepcore.backend import gpu_probe
    from deepcore.bench import cli
    from deepcore.bench.environment import git_commit

    stem = f"{datetime.date.today().isoformat()}-{git_commit()[:7]}"
    plot = importlib.util.find_spec("matplotlib") is not None
    if not plot:
        print("matplotlib is not installed: no bar charts", file=sys.stderr)
    status = 0
    for device_name in ["cpu"] + (["gpu"] if gpu_probe()[0] else []):
        for kind, prefix in (("models", f"{device_name}-{stem}"), ("ops", f"{device_name}-{stem}-ops")):
            prefix = os.path.relpath(RESULTS / prefix)  # the recorded command stays short
            extra = ["--compare", "torch"] if kind == "models" else []
            status |= cli.main([kind, "--device", device_name, *extra, "--json", f"{prefix}.json",
                                *(["--plot", f"{prefix}.png"] if plot else []), *argv])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
