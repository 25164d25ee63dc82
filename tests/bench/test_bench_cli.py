"""`deepcore bench models|ops` run end to end in a tiny mode and write the documented JSON; bad arguments
exit 2 with a message naming the problem. No timing assertions."""
import json

import pytest

from deepcore.backend import gpu_probe
from deepcore.bench import cli

HEADER_FIELDS = {"schema", "kind", "command", "argv", "timestamp", "git_commit", "git_uncommitted", "versions",
                 "machine", "threads", "settings", "skipped_devices", "results"}
VERSION_FIELDS = {"python", "deepcore", "numpy", "numba", "cupy", "torch", "blas"}
TINY = ["--steps", "1", "--repeats", "1", "--warmup", "0", "--threads", "1"]


def _read(path):
    document = json.loads(path.read_text())
    assert HEADER_FIELDS <= set(document)
    assert VERSION_FIELDS <= set(document["versions"])
    assert document["machine"]["cpu_model"] and "gpu" in document["machine"]
    assert document["git_commit"]
    assert document["command"].startswith("deepcore bench ")
    assert document["threads"]["requested"] == 1 and document["threads"]["numba"] == 1
    return document


def test_models_writes_a_record_per_framework_and_mode(tmp_path, capsys):
    import numba

    threads_before = numba.get_num_threads()
    path, plot = tmp_path / "models.json", tmp_path / "models.png"
    argv = ["models", "--device", "cpu", "--workloads", "mlp", "--compare", "torch", "--json", str(path),
            "--plot", str(plot), *TINY]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "deepcore cpu img/s" in out and "mlp" in out
    document = _read(path)
    assert document["kind"] == "models" and document["settings"]["devices"] == ["cpu"]
    deepcore = [r for r in document["results"] if r["framework"] == "deepcore"]
    assert [(r["workload"], r["mode"], r["status"]) for r in deepcore] == [("mlp", "train", "ok"),
                                                                          ("mlp", "inference", "ok")]
    for record in deepcore:
        assert record["images_per_second"]["median"] > 0 and record["batch_size"] == 128
        assert record["parameters"]["trainable"] > 0 and isinstance(record["noisy"], bool)
    torch_records = [r for r in document["results"] if r["framework"] == "torch"]
    assert len(torch_records) == 2 and {r["status"] for r in torch_records} <= {"ok", "skipped"}
    assert plot.stat().st_size > 0
    assert numba.get_num_threads() == threads_before  # --threads is undone when main returns


def test_ops_reports_rates_paths_and_the_measured_peak(tmp_path, capsys):
    path, plot = tmp_path / "ops.json", tmp_path / "ops.png"
    argv = ["ops", "--device", "cpu", "--ops", "conv2d_forward,bias_relu_forward,sgd_momentum_update",
            "--batch-size", "1", "--json", str(path), "--plot", str(plot), *TINY]
    assert cli.main(argv) == 0
    assert "cpu peak: GEMM" in capsys.readouterr().out
    assert plot.stat().st_size > 0
    document = _read(path)
    peaks = document["peaks"]["cpu"]
    assert peaks["gemm"]["flops_per_second"]["max"] > 0 and peaks["copy"]["bytes_per_second"]["max"] > 0
    ops = {r["op"] for r in document["results"]}
    assert ops == {"conv2d_forward", "bias_relu_forward", "sgd_momentum_update"}
    for record in document["results"]:
        assert record["path"] and record["unit"] in ("GFLOP/s", "GB/s") and record["fraction_of_peak"] > 0


@pytest.mark.parametrize("argv, message", [
    (["models", "--workloads", "mlp,alexnet"], "unknown workload 'alexnet'"),
    (["models", "--device", "tpu"], "unknown device 'tpu'"),
    (["models", "--steps", "0"], "expected a positive integer, got 0"),
    (["models", "--compare", "jax"], "invalid choice: 'jax'"),
    (["ops", "--ops", "fft"], "unknown op 'fft'"),
    (["ops", "--warmup", "-1"], "expected a non-negative integer, got -1"),
    (["flops"], "invalid choice: 'flops'"),
])
def test_bad_arguments_exit_2_naming_the_problem(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_deepcore_command_reaches_the_bench_cli(capsys):
    from deepcore import cli as deepcore_cli

    with pytest.raises(SystemExit):
        deepcore_cli.main(["bench", "models", "--workloads", "nope"])
    assert "unknown workload 'nope'" in capsys.readouterr().err


@pytest.mark.skipif(gpu_probe()[0], reason="a GPU is usable here")
def test_an_unusable_gpu_is_skipped_with_the_reason(tmp_path, capsys):
    path = tmp_path / "gpu.json"
    assert cli.main(["models", "--device", "gpu", "--json", str(path), *TINY]) == 0
    assert "skipping gpu:" in capsys.readouterr().err
    document = _read(path)
    assert document["results"] == [] and document["skipped_devices"][0].startswith("skipping gpu:")


@pytest.mark.gpu
@pytest.mark.parametrize("command", [["models", "--workloads", "mlp", "--compare", "torch"],
                                     ["ops", "--ops", "conv2d_forward,batchnorm", "--batch-size", "2"]])
def test_gpu_runs_end_to_end(command, tmp_path):
    path = tmp_path / "gpu.json"
    assert cli.main([*command, "--device", "gpu", "--json", str(path), *TINY]) == 0
    document = _read(path)
    assert document["machine"]["gpu"] and {r["device"] for r in document["results"]} == {"gpu"}
    assert all(r["status"] in ("ok", "skipped") for r in document["results"] if "status" in r)


def test_each_run_is_a_fresh_process_and_its_failure_is_a_record():
    import dataclasses

    from deepcore.bench.models import run_isolated
    from deepcore.bench.workloads import WORKLOADS

    records = run_isolated(WORKLOADS["mlp"], "cpu", "deepcore", 4, 0, 1, 1, 1)
    assert [r["mode"] for r in records] == ["train", "inference"] and all(r["status"] == "ok" for r in records)
    unknown = dataclasses.replace(WORKLOADS["mlp"], name="no_such_workload")
    records = run_isolated(unknown, "cpu", "deepcore", 4, 0, 1, 1, 1)
    assert all(r["status"] == "error" and "KeyError" in r["message"] for r in records)
