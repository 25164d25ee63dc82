"""to_device_async: host batches to the GPU through pinned staging buffers (backend/transfer.py)."""
import numpy as np
import pytest

from deepcore.backend import Device, transfer


def test_on_the_cpu_it_is_to_device():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert transfer.to_device_async(x, Device("cpu")) is x
    assert transfer.to_device_async(x[:, ::2], Device("cpu")).tolist() == [[0, 2], [3, 5]]


@pytest.mark.gpu
def test_batches_arrive_intact_while_the_host_reuses_its_arrays():
    """More batches than staging buffers, the host overwriting its source array after each call: every
    device array still holds the batch it was given (the staging buffer is not reused before its copy ends)."""
    import cupy

    source = np.empty((64, 28, 28, 1), np.float32)
    results, expected = [], []
    for i in range(3 * transfer.DEPTH + 1):
        source[...] = i
        expected.append(source.copy())
        results.append(transfer.to_device_async(source, Device("gpu")))
        source[...] = -1  # the host prepares the next batch in the same array
    cupy.cuda.get_current_stream().synchronize()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(cupy.asnumpy(got), want)


@pytest.mark.gpu
def test_non_contiguous_and_integer_batches_and_device_arrays():
    import cupy

    labels = np.arange(10, dtype=np.int32)[::2]
    np.testing.assert_array_equal(cupy.asnumpy(transfer.to_device_async(labels, Device("gpu"))), labels)
    on_device = cupy.ones(3)
    assert transfer.to_device_async(on_device, Device("gpu")) is on_device
