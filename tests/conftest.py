"""Shared fixtures: ``device`` runs a test once per available device; the ``gpu`` marker skips
without a usable GPU, unless DEEPCORE_REQUIRE_GPU=1 turns that skip into a failure."""
import os

import numpy as np
import pytest

from deepcore.backend import gpu_probe

GPU_OK, GPU_REASON = gpu_probe()
REQUIRE_GPU = os.environ.get("DEEPCORE_REQUIRE_GPU") == "1"


def _gpu_unavailable():
    if REQUIRE_GPU:
        pytest.fail(f"DEEPCORE_REQUIRE_GPU=1 but the GPU probe failed: {GPU_REASON}")
    pytest.skip(f"no usable GPU: {GPU_REASON}")


def pytest_runtest_setup(item):
    if item.get_closest_marker("gpu") and not GPU_OK:
        _gpu_unavailable()


@pytest.fixture(params=["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
def device(request):
    """The device name; the test body moves its arrays there with ``xp``."""
    return request.param


@pytest.fixture
def xp(device):
    if device == "cpu":
        return np
    import cupy
    return cupy


@pytest.fixture(autouse=True)
def _seeded():
    from deepcore.backend import random
    random.set_random_seed(1234)
    yield
