"""Run the whole benchmark suite on each available device and write results/<device>-<date>-<commit>[-ops].json.

    python benchmarks/run_suite.py                 # every device, --compare torch, all threads
    python benchmarks/run_suite.py --threads 2     # options common to `bench models` and `bench ops` go to both
    python benchmarks/run_suite.py --render results/cpu-2026-11-28-1e36f11.json   # markdown for the README

Set OMP_NUM_THREADS (and friends) in the shell as well when passing --threads:
BLAS reads them once, at NumPy's import (see deepcore/bench/environment.py).
"""
from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def render(path) -> str:
    """A result file as the markdown the README shows: header line, then the table."""
    from deepcore.bench import report

    document = json.loads(Path(path).read_text())
    machine = document["machine"]
    rows = report.models_rows if document["kind"] == "models" else report.ops_rows
    where = machine["gpu"] or machine["cpu_model"]
    lines = [f"`{document['command']}` on {where} ({machine['cpu_count']} CPU threads, load "
             f"{machine['load_average_at_start']}), commit {document['git_commit'][:7]}, {document['timestamp']}",
             "", report.format_table(*rows(document["results"]), markdown=True)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--render"]:
        for path in argv[1:]:
            print(render(path), end="\n\n")
        return 0
    from deepcore.backend import gpu_probe
    from deepcore.bench import cli
    from deepcore.bench.environment import git_commit

    stem = f"{datetime.date.today().isoformat()}-{git_commit()[:7]}"
    status = 0
    for device_name in ["cpu"] + (["gpu"] if gpu_probe()[0] else []):
        prefix = os.path.relpath(RESULTS / f"{device_name}-{stem}")  # the recorded command stays short
        status |= cli.main(["models", "--device", device_name, "--compare", "torch", "--json",
                            f"{prefix}.json", *argv])
        status |= cli.main(["ops", "--device", device_name, "--json", f"{prefix}-ops.json", *argv])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
