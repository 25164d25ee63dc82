"""Bar charts (`--plot`) and the README renderer (benchmarks/render_readme.py), from small fake result
documents in the schema `deepcore bench` writes (deepcore-bench/1)."""
import importlib.util
import json
from pathlib import Path

import pytest

from deepcore.bench import report

pytest.importorskip("matplotlib")
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _load_render_readme():
    spec = importlib.util.spec_from_file_location("render_readme", BENCHMARKS / "render_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_readme = _load_render_readme()


def _rate(median):
    return {"median": median, "min": median * 0.95, "max": median * 1.02}


def _models_record(workload, device, framework, mode, images_per_second, status="ok"):
    record = {"workload": workload, "title": workload, "device": device, "framework": framework,
              "batch_size": 128, "mode": mode, "status": status}
    if status != "ok":
        return {**record, "message": "torch is not installed" if status == "skipped" else "boom"}
    return {**record, "parameters": {"trainable": 10, "total": 10}, "images_per_second": _rate(images_per_second),
            "seconds_per_call": _rate(128 / images_per_second), "steps": 2, "repeats": 1, "spread": 0.07,
            "noisy": False}


def _document(kind, results, timestamp="2026-11-28T08:54:40+00:00", commit="abcdef0123456789"):
    devices = sorted({r["device"] for r in results})
    return {"schema": "deepcore-bench/1", "kind": kind, "command": f"deepcore bench {kind} --steps 2",
            "argv": [kind, "--steps", "2"], "timestamp": timestamp, "git_commit": commit, "git_uncommitted": [],
            "versions": {"python": "3.11.7", "deepcore": "0.1.0", "numpy": "2.4.6", "numba": "0.68.1",
                         "cupy": None, "torch": "2.13.0+cpu"},
            "machine": {"cpu_model": "Test CPU 9000", "cpu_count": 2, "platform": "Linux",
                        "load_average_at_start": [0.5, 0.5, 0.5], "gpu": "Test GPU" if "gpu" in devices else None,
                        "gpu_probe": "ok", "load_average_at_end": [0.6, 0.5, 0.5]},
            "threads": {"requested": 2, "numba": 2, "blas": 2, "environment": {}, "torch": 2,
                        "numba_threading_layer": "omp"},
            "settings": {"devices": devices, "batch_size": None, "warmup": 2, "steps": 2, "repeats": 1},
            "skipped_devices": [], "results": results}


def _models_document(device="cpu", scale=1.0, **header):
    results = []
    for workload, rate in (("mlp", 50_000), ("resnet20", 300)):
        for mode, factor in (("train", 1), ("inference", 3)):
            results.append(_models_record(workload, device, "deepcore", mode, scale * rate * factor))
            results.append(_models_record(workload, device, "torch", mode, scale * rate * factor * 1.25))
    return _document("models", results, **header)


def _ops_document(device="cpu"):
    record = {"op": "conv2d_forward", "case": "resnet 3x3 56x56x64->64", "shape": [2, 56, 56, 64],
              "device": device, "path": "numba", "seconds_per_call": _rate(0.002), "steps": 2, "repeats": 1,
              "spread": 0.05, "noisy": True, "work_per_call": 4.6e8, "unit": "GFLOP/s", "rate": _rate(225.0),
              "fraction_of_peak": 0.78, "peak": "gemm"}
    peaks = {device: {"gemm": {"flops_per_second": _rate(2.9e11), "shape": [1024] * 3},
                      "copy": {"bytes_per_second": _rate(4.5e10), "bytes": 2**28}}}
    return {**_document("ops", [record]), "peaks": peaks}


def _assert_png(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 1000


def test_models_plot_with_every_series_and_failed_records(tmp_path):
    document = _models_document()
    document["results"] += _models_document("gpu", scale=30)["results"]
    document["results"][-1] = _models_record("resnet20", "gpu", "torch", "inference", 0, status="error")
    document["results"].append(_models_record("lenet5", "cpu", "deepcore", "train", 0, status="error"))
    report.plot_models(document, tmp_path / "models.png")
    _assert_png(tmp_path / "models.png")


def test_ops_plot(tmp_path):
    report.plot_ops(_ops_document(), tmp_path / "ops.png")
    _assert_png(tmp_path / "ops.png")


def test_summary_rows_put_train_and_inference_side_by_side():
    header, rows = report.summary_rows(_models_document()["results"], "cpu")
    assert header == ["workload", "batch", "train deepcore img/s", "train torch img/s", "train deepcore/torch",
                      "inference deepcore img/s", "inference torch img/s", "inference deepcore/torch"]
    assert rows[0] == ["mlp", "128", "50,000", "62,500", "0.80x", "150,000", "187,500", "0.80x"]


README = "# Benchmarks\n\nintro\n\n{begin}\nold table\n{end}\n\n## After\n\nkept\n"


def _write(path, document):
    path.write_text(json.dumps(document))


def test_render_readme_rewrites_only_the_marked_section_from_the_newest_files(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    # Names sort the other way round from the recorded timestamps: the timestamp decides.
    _write(results / "cpu-b-old.json", _models_document(scale=0.001, timestamp="2026-11-27T10:00:00+00:00",
                                                        commit="0ld0000"))
    _write(results / "cpu-a-new.json", _models_document(commit="1234567aaaa"))
    (results / "cpu-a-new.png").write_bytes(PNG_SIGNATURE)
    _write(results / "cpu-a-new-ops.json", _ops_document())
    _write(results / "gpu-x.json", _models_document("gpu", scale=30))
    _write(results / "distributed.json", {"timestamp": "2030-01-01T00:00:00+00:00", "results": []})
    readme = tmp_path / "docs" / "README.md"
    readme.parent.mkdir()
    readme.write_text(README.format(begin=render_readme.BEGIN, end=render_readme.END))

    assert render_readme.main(["--results", str(results), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n\n" + render_readme.BEGIN) and text.endswith(
        render_readme.END + "\n\n## After\n\nkept\n")
    assert "old table" not in text and "0ld0000" not in text
    cpu, gpu = text.split("### GPU")
    assert "commit `1234567`" in cpu and "Test CPU 9000" in cpu and "threads 2" in cpu and "2026-11-28 08:54" in cpu
    assert "`deepcore bench models --steps 2`" in cpu
    assert "| mlp | 128 | 50,000 | 62,500 | 0.80x | 150,000 | 187,500 | 0.80x |" in cpu
    assert "](../results/cpu-a-new.png)" in cpu  # linked relative to the README's folder
    assert "| conv2d_forward | resnet 3x3 56x56x64->64 | cpu | numba | 2.000* |" in cpu
    assert "| mlp | 128 | 1,500,000 | 1,875,000 | 0.80x |" in gpu and "Test GPU" in gpu and ".png)" not in gpu

    assert render_readme.main(["--results", str(results), "--readme", str(readme)]) == 0
    assert readme.read_text() == text  # rendering twice changes nothing


def test_render_readme_without_markers_says_what_it_needs(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    with pytest.raises(SystemExit, match="expected one line"):
        render_readme.main(["--results", str(tmp_path), "--readme", str(readme)])
    assert readme.read_text() == "# no markers\n"


def test_the_committed_results_render():
    text = render_readme.render(BENCHMARKS / "results", BENCHMARKS)
    assert "### CPU" in text and "| mlp |" in text
