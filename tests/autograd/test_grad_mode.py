"""no_grad / enable_grad (a class since the Python-overhead work): nesting, exceptions, one object entered
twice, and use as a decorator from several threads and recursively."""
import threading

import numpy as np
import pytest

import deepcore as dc
from deepcore.autograd import enable_grad, is_grad_enabled, no_grad


def test_nesting_and_restoring_after_an_exception():
    with no_grad():
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError
    assert is_grad_enabled()
    mode = no_grad()
    with mode:
        with mode:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_ops_under_no_grad_record_nothing():
    w = dc.Variable(np.ones((2, 2), np.float32))
    with no_grad():
        y = dc.ops.matmul(w, w)
    assert not y.requires_grad and y._creator is None
    assert dc.ops.matmul(w, w).requires_grad


def test_decorator_recursion_and_threads():
    @no_grad()
    def inner(depth=0):
        if depth < 3:
            assert inner(depth + 1) is False
        return is_grad_enabled()

    results = []

    def worker():
        results.extend(inner() for _ in range(200))
        results.append(is_grad_enabled())  # restored in each thread

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(False) == 800 and results.count(True) == 4
    assert is_grad_enabled()
