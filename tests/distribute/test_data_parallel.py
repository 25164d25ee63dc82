"""Data parallelism with real processes: `mpiexec -n 2` (and 3) against one process running the same
script (tests/distribute/worker.py). Skipped when mpi4py or mpiexec is missing
(pip install 'deepcore[distributed]')."""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from deepcore.distribute.launch import find_mpiexec
from deepcore.distribute.sharding import shard_bounds

WORKER = Path(__file__).with_name("worker.py")
MPIEXEC = find_mpiexec()
pytestmark = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
                                reason="needs mpi4py and mpiexec: pip install 'deepcore[distributed]'")


def run(case, out, processes=None, timeout=120):
    command = [sys.executable, str(WORKER), case, str(out)]
    if processes:
        command = [MPIEXEC, "-n", str(processes)] + command
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # 2 cores shared by the ranks
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The suite in one process, on 2 ranks and on 3 ranks: (per-rank arrays, stdout, output folder)."""
    found = {}
    for processes in (None, 2, 3):
        out = tmp_path_factory.mktemp(f"ranks{processes or 1}")
        result = run("suite", out, processes)
        assert result.returncode == 0, result.stdout + result.stderr
        ranks = [dict(np.load(out / f"rank{r}.npz")) for r in range(processes or 1)]
        found[processes or 1] = (ranks, result.stdout, out)
    return found


@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("model", ["plain", "syncbn"])
def test_ranks_train_like_one_process_with_the_global_batch(runs, size, model):
    (single,), _, _ = runs[1]
    ranks, _, _ = runs[size]
    for rank in ranks:  # identical weights on every rank, equal to one process's within float32 rounding
        np.testing.assert_array_equal(rank[f"{model}_weights"], ranks[0][f"{model}_weights"])
    np.testing.assert_allclose(ranks[0][f"{model}_weights"], single[f"{model}_weights"], rtol=1e-5, atol=1e-6)
    # logged loss and accuracy cover every rank's samples
    np.testing.assert_allclose(ranks[0][f"{model}_loss"], single[f"{model}_loss"], rtol=1e-5)
    np.testing.assert_allclose(ranks[0][f"{model}_accuracy"], single[f"{model}_accuracy"], rtol=1e-6)


@pytest.mark.parametrize("size", [2, 3])
def test_sharded_evaluate_and_gathered_predict_equal_one_process(runs, size):
    (single,), _, _ = runs[1]
    ranks, _, _ = runs[size]
    for rank in ranks:
        for model in ("plain", "syncbn"):
            np.testing.assert_allclose(rank[f"{model}_evaluate"], single[f"{model}_evaluate"], rtol=1e-5)
            np.testing.assert_allclose(rank[f"{model}_predict"], single[f"{model}_predict"], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("size", [2, 3])
def test_shuffles_are_rank_0s_and_cover_each_sample_once_per_epoch(runs, size):
    (single,), _, _ = runs[1]
    ranks, _, _ = runs[size]
    for epoch in (0, 1):
        seen = np.concatenate([rank[f"order{epoch}"] for rank in ranks])
        np.testing.assert_array_equal(np.sort(seen), np.arange(len(single[f"order{epoch}"])))
        # every rank's first part is its slice of one process's first batch
        for r, rank in enumerate(ranks):
            start, stop = shard_bounds(32, size, r)
            np.testing.assert_array_equal(rank[f"order{epoch}"][:stop - start], single[f"order{epoch}"][start:stop])


@pytest.mark.parametrize("size", [2, 3])
def test_bucketed_allreduce_equals_per_tensor_allreduce(runs, size):
    for rank in runs[size][0]:
        assert rank["bucket_count"] > 1 and rank["bucket_error"] == 0 and rank["bucket_none"]


@pytest.mark.parametrize("size", [2, 3])
def test_rank_0_alone_logs_runs_callbacks_and_saves(runs, size):
    _, stdout, out = runs[size]
    assert stdout.count("Epoch 1/3") == 2  # two fits with verbose=2, printed once each
    assert (out / "callback_rank0.txt").read_text() == "0\n1\n"
    assert not any(out.glob("callback_rank[1-9].txt"))
    assert (out / "model.keras").is_file()


@pytest.mark.parametrize("size", [None, 3])
def test_a_backup_written_on_2_ranks_resumes_on_any_world_size_like_an_uninterrupted_run(runs, size, tmp_path):
    (single,), _, _ = runs[1]
    shutil.copytree(runs[2][2] / "backup", tmp_path / "backup")
    result = run("resume", tmp_path, size)
    assert result.returncode == 0, result.stdout + result.stderr
    for rank in range(size or 1):
        resumed = np.load(tmp_path / f"rank{rank}.npz")
        assert resumed["epochs"] == 2  # epochs 2 and 3
        np.testing.assert_allclose(resumed["plain_weights"], single["plain_weights"], rtol=1e-5, atol=1e-6)


def test_a_failing_rank_ends_every_rank_with_its_error(tmp_path):
    start = time.monotonic()
    result = run("fail", tmp_path, processes=2, timeout=60)
    assert result.returncode != 0
    assert "RuntimeError: rank 1 failed on purpose" in result.stderr
    assert "rank 1 of 2 failed; stopping every rank" in result.stderr
    assert time.monotonic() - start < 30


def test_launch_runs_the_script_on_n_processes(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("import deepcore as dc\ns = dc.distribute.DataParallel()\nprint(f'rank {s.rank} of {s.size}')\n")
    result = subprocess.run([sys.executable, "-m", "deepcore.cli", "launch", "-n", "2", str(script)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert sorted(re.findall(r"rank \d of \d", result.stdout)) == ["rank 0 of 2", "rank 1 of 2"]
