"""The deepcore command: `info` reports versions and kernel paths; bad arguments exit 2."""
import json
import subprocess
import sys

import pytest

from deepcore import cli
from deepcore.backend import KERNEL_NAMES


def test_info_json_reports_versions_devices_and_kernels(capsys):
    assert cli.main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["default_device"] in ("cpu", "gpu")
    assert isinstance(info["gpu_usable"], bool) and info["gpu_probe"]
    assert set(info["kernels"]["cpu"]) == set(KERNEL_NAMES)
    assert info["cpu_threads"] >= 1


def test_info_text_lists_every_cpu_kernel(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "kernels (cpu):" in out
    assert all(name in out for name in KERNEL_NAMES)


@pytest.mark.parametrize("argv", [[], ["info", "--bogus"], ["frobnicate"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "usage: deepcore" in capsys.readouterr().err


def test_bench_forwards_arguments(monkeypatch):
    bench_cli = pytest.importorskip("deepcore.bench.cli")
    received = []
    monkeypatch.setattr(bench_cli, "main", lambda argv: received.append(argv) or 0)
    assert cli.main(["bench", "models", "--device", "cpu", "--help"]) == 0
    assert received == [["models", "--device", "cpu", "--help"]]


def test_bench_without_bench_module_exits_2(monkeypatch, capsys):
    def missing(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    monkeypatch.setattr(cli.importlib, "import_module", missing)
    assert cli.main(["bench", "models"]) == 2
    assert "deepcore/bench/cli.py is not available" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli():
    done = subprocess.run([sys.executable, "-m", "deepcore", "info", "--json"], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout)["deepcore"]
