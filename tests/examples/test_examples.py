"""Every example in examples/ runs in its --quick mode and prints its result line."""
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

CASES = {  # example -> text its output must hold
    "xor_mlp.py": "XOR truth table: 4/4 correct",
    "mnist_mlp.py": "test accuracy",
    "mnist_cnn.py": "test accuracy",
    "keras_style_mnist_convnet.py": "Test accuracy:",
    "cifar10_resnet20.py": "test accuracy",
    "transfer_learning.py": "stage 3, digits 5-9, fine-tuned end to end: test accuracy",
    "custom_layer.py": "saved and reloaded custom_layer.keras",
    "custom_op.py": "grad_check(Swish) passed",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_quick_mode(name, tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLES / name), "--quick"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert CASES[name] in result.stdout, f"{name} printed no result line:\n{result.stdout[-2000:]}"

