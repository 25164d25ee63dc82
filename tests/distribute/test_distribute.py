"""deepcore.distribute without MPI: the sampler's arithmetic, metric and batch-norm reductions between two
in-process ranks (threads exchanging arrays), the NCCL wrapper against a fake cupy.cuda.nccl, the world
of one process, `deepcore launch`'s messages, and bad arguments."""
import sys
import threading
import types

import numpy as np
import pytest

import deepcore as dc
from deepcore import cli
from deepcore.autograd import grad_check
from deepcore.distribute import communicator, launch, nccl
from deepcore.distribute.buckets import GradientBuckets
from deepcore.distribute.communicator import LocalCommunicator
from deepcore.distribute.reduction import metric_state_names, reduced_results
from deepcore.distribute.sharding import shard_bounds
from deepcore.distribute.sync_batch_norm import SynchronizedBatchNorm
from deepcore.ops.normalization import BatchNormTrain


class PairCommunicator:
    """Rank ``rank`` of two threads that exchange values through a barrier (a stand-in for MPI)."""

    def __init__(self, rank, shared):
        self.rank, self.size, self.shared = rank, 2, shared

    def _exchange(self, value):
        self.shared["slots"][self.rank] = value
        self.shared["barrier"].wait()
        both = list(self.shared["slots"])
        self.shared["barrier"].wait()
        return both

    def allreduce_sum(self, array):
        first, second = self._exchange(array.copy())
        array[...] = first + second
        return array

    def broadcast(self, array, root=0):
        array[...] = self._exchange(array.copy())[root]
        return array

    def allgather_object(self, value):
        return self._exchange(value)

    def broadcast_object(self, value, root=0):
        return self._exchange(value)[root]


def on_two_ranks(work):
    """[work(PairCommunicator(0)), work(PairCommunicator(1))], run concurrently."""
    shared = {"barrier": threading.Barrier(2, timeout=20), "slots": [None, None]}
    results, errors = [None, None], []

    def run(rank):
        try:
            results[rank] = work(PairCommunicator(rank, shared))
        except Exception as error:  # surfaced below, with the other rank released
            errors.append(error)
            shared["barrier"].abort()

    threads = [threading.Thread(target=run, args=(rank,)) for rank in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
def test_shards_are_consecutive_cover_the_batch_and_differ_by_at_most_one(size):
    for n in range(0, 30):
        bounds = [shard_bounds(n, size, rank) for rank in range(size)]
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        lengths = [stop - start for start, stop in bounds]
        assert max(lengths) - min(lengths) <= 1 and lengths == sorted(lengths, reverse=True)


def test_a_last_training_batch_smaller_than_the_world_is_skipped_and_not_counted():
    from deepcore.distribute.sharding import ShardedBatches
    from deepcore.models.data_adapter import ArrayBatches

    third = types.SimpleNamespace(rank=2, size=3)  # no collective runs without shuffling
    training = ShardedBatches(ArrayBatches(np.arange(66), None, None, 32, False), third, training=True)
    assert training.steps == 2
    with pytest.warns(UserWarning, match="skipped a training batch of 2 sample"):
        parts = [batch[0] for batch in training.epoch()]
    np.testing.assert_array_equal(np.concatenate(parts), [22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                                          54, 55, 56, 57, 58, 59, 60, 61, 62, 63])
    assert training.share == pytest.approx(10 / 32)
    evaluation = ShardedBatches(ArrayBatches(np.arange(66), None, None, 32, False), third)
    assert evaluation.steps == 3 and len(list(evaluation.epoch())) == 2  # rank 2's part of the last 2 is empty
    assert evaluation.batch_indices == [0, 1]


def test_metric_state_is_what_reset_state_assigns():
    assert metric_state_names(dc.metrics.Mean()) == ["total", "count"]
    assert set(metric_state_names(dc.metrics.Precision())) == {"true_positives", "false_positives",
                                                                "false_negatives"}
    assert len(metric_state_names(dc.metrics.AUC())) == 4


def test_metrics_reduced_over_two_ranks_equal_one_metric_over_all_samples():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, (40, 3)).astype(np.float32)
    y_pred = rng.random((40, 3)).astype(np.float32)
    make = lambda: [dc.metrics.Mean("mean"), dc.metrics.AUC(name="auc"),
                    dc.metrics.F1Score(average=None, threshold=0.5, name="f1"), dc.metrics.Precision(name="p")]
    everything = make()
    for metric in everything:
        if metric.name == "mean":
            metric.update_state(y_pred)
        else:
            metric.update_state(y_true, y_pred)
    expected = {m.name: m.result() for m in everything}

    def work(comm):
        metrics = make()
        part = slice(0, 40) if comm.rank == 0 else slice(0, 0)  # rank 1 saw nothing: scalar 0.0 states
        if comm.rank == 0:
            for metric in metrics:
                metric.update_state(*((y_pred[part],) if metric.name == "mean" else (y_true[part], y_pred[part])))
        before = {m.name: m.result() for m in metrics}
        reduced = reduced_results(metrics, comm)
        assert {m.name: m.result() for m in metrics}.keys() == before.keys()  # local state kept
        return reduced

    for reduced in on_two_ranks(work):
        for name, value in expected.items():
            np.testing.assert_allclose(reduced[name], value, rtol=1e-6)


def test_metrics_split_unevenly_over_two_ranks_equal_one_metric():
    rng = np.random.default_rng(1)
    values = rng.random(30)
    whole = dc.metrics.Mean()
    whole.update_state(values)

    def work(comm):
        metric = dc.metrics.Mean()
        metric.update_state(values[:7] if comm.rank == 0 else values[7:])
        return reduced_results([metric], comm)["mean"]

    assert on_two_ranks(work) == pytest.approx([whole.result()] * 2, rel=1e-12)


def test_synchronized_batch_norm_over_two_uneven_ranks_equals_batch_norm_of_the_whole_batch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((9, 2, 4))
    gamma, beta = rng.random(4) + 0.5, rng.standard_normal(4)
    upstream = rng.standard_normal(x.shape)
    # one process: loss = mean over the 9 samples of sum(y * upstream)
    whole = BatchNormTrain(epsilon=1e-3)
    y = whole.forward(x, gamma, beta)
    gx, ggamma, gbeta = whole.backward(upstream / len(x))
    parts = (slice(0, 5), slice(5, 9))

    def work(comm):
        fn = SynchronizedBatchNorm(epsilon=1e-3, communicator=comm)
        rows = parts[comm.rank]
        local_y = fn.forward(x[rows], gamma, beta)
        n = rows.stop - rows.start
        grads = fn.backward(upstream[rows] / n)  # this rank's loss: the mean over its own samples
        return local_y, grads, n / len(x), fn.mean, fn.variance

    results = on_two_ranks(work)
    np.testing.assert_allclose(np.concatenate([r[0] for r in results]), y, rtol=1e-10, atol=1e-12)
    for _, _, _, mean, variance in results:
        np.testing.assert_allclose(mean, whole.mean, rtol=1e-10)
        np.testing.assert_allclose(variance, whole.variance, rtol=1e-10)
    # the gradient allreduce weights each rank's gradients by its share and sums them
    combined_gx = np.concatenate([share * grads[0] for _, grads, share, _, _ in results])
    np.testing.assert_allclose(combined_gx, gx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sum(share * grads[1] for _, grads, share, _, _ in results), ggamma, rtol=1e-9)
    np.testing.assert_allclose(sum(share * grads[2] for _, grads, share, _, _ in results), gbeta, rtol=1e-9)


def test_synchronized_batch_norm_gradient_check_in_one_process():
    rng = np.random.default_rng(3)
    inputs = [rng.standard_normal((6, 3)), rng.random(3) + 0.5, rng.standard_normal(3)]
    fn = lambda x, gamma, beta: SynchronizedBatchNorm(epsilon=1e-3, communicator=LocalCommunicator())(x, gamma, beta)
    grad_check(fn, inputs)


def test_gradient_buckets_split_by_size_and_dtype_and_keep_none():
    variables = [dc.Variable(np.zeros(s, dtype)) for s, dtype in
                 [((10,), np.float32), ((10,), np.float32), ((4,), np.float64), ((3, 3), np.float32)]]
    buckets = GradientBuckets(variables, bucket_bytes=40)
    assert [[entry[0] for entry in entries] for _, entries in buckets.buckets] == [[3], [2], [1], [0]]
    grads = [np.full(v.shape, i + 1.0, v.dtype) for i, v in enumerate(variables)]
    grads[2] = None
    reduced = buckets.reduce(grads, 0.5, LocalCommunicator())
    assert reduced[2] is None
    for grad, out in zip(grads, reduced):
        if grad is not None:
            np.testing.assert_array_equal(out, grad * 0.5)
            assert out.shape == grad.shape and out.dtype == grad.dtype


def test_one_process_world_trains_exactly_as_without_a_strategy():
    strategy = dc.distribute.DataParallel()
    assert (strategy.rank, strategy.size, strategy.is_chief) == (0, 1, True)
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((50, 4)).astype(np.float32), rng.integers(0, 2, 50)

    def train(scope):
        dc.utils.set_random_seed(0)
        with scope:
            model = dc.Sequential([dc.Input((4,)), dc.layers.Dense(5, activation="relu"),
                                   dc.layers.BatchNormalization(synchronized=True), dc.layers.Dense(2)])
            model.compile("adam", dc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return model.get_weights(), history.history, model.predict(x, verbose=0)

    import contextlib
    plain, distributed = train(contextlib.nullcontext()), train(strategy.scope())
    for a, b in zip(plain[0], distributed[0]):
        np.testing.assert_array_equal(a, b)
    assert plain[1] == distributed[1]
    np.testing.assert_array_equal(plain[2], distributed[2])


def test_models_take_the_strategy_of_the_scope_they_are_built_or_compiled_in():
    strategy = dc.distribute.DataParallel()
    with strategy.scope():
        inside = dc.Sequential([dc.Input((2,)), dc.layers.Dense(1)])
        assert dc.distribute.current() is strategy
    outside = dc.Sequential([dc.Input((2,)), dc.layers.Dense(1)])
    assert inside._distribute is strategy and outside._distribute is dc.distribute.LOCAL
    with strategy.scope():
        outside.compile("sgd", "mse")
    assert outside._distribute is strategy


def test_synchronized_is_a_saved_batch_normalization_argument():
    layer = dc.layers.BatchNormalization(synchronized=True)
    assert layer.get_config()["synchronized"] is True
    assert dc.layers.BatchNormalization.from_config(layer.get_config()).synchronized is True
    assert dc.layers.BatchNormalization().get_config()["synchronized"] is False


def test_mpiexec_without_mpi4py_is_an_error_that_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py raises ImportError
    monkeypatch.setenv("PMI_SIZE", "4")
    with pytest.raises(RuntimeError, match=r"mpiexec started 4 processes.*pip install 'deepcore\[distributed\]'"):
        dc.distribute.DataParallel()
    monkeypatch.delenv("PMI_SIZE")
    assert dc.distribute.DataParallel().size == 1  # not launched: a world of one, silently


def test_an_mpiexec_of_another_mpi_is_an_error(monkeypatch):
    pytest.importorskip("mpi4py")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "3")  # launched by 3, yet MPI_COMM_WORLD has 1 process
    with pytest.raises(RuntimeError, match="belongs to another MPI"):
        communicator.mpi_world()


@pytest.mark.parametrize("kwargs, message", [({"communication": "gloo"}, "communication must be"),
                                             ({"bucket_mb": 0}, "bucket_mb must be"),
                                             ({"bucket_mb": "4"}, "bucket_mb must be")])
def test_bad_arguments_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dc.distribute.DataParallel(**kwargs)


def test_nccl_requested_without_cupy_says_what_to_install(monkeypatch):
    monkeypatch.setattr("deepcore.distribute.strategy.nccl_available", lambda: (False, "ImportError: no cupy"))
    with pytest.raises(RuntimeError, match=r"needs CuPy with NCCL.*cuda12.*no cupy"):
        dc.distribute.DataParallel(communication="nccl")


def test_nccl_communicator_calls_cupy_nccl_with_pointers_counts_types_and_streams(monkeypatch):
    calls = []

    class FakeNcclCommunicator:
        def __init__(self, size, unique_id, rank):
            self.number = sum(call[0] == "init" for call in calls)
            calls.append(("init", size, unique_id, rank))

        def allReduce(self, send, receive, count, datatype, op, stream):
            calls.append(("allReduce", self.number, send, receive, count, datatype, op, stream))

        def bcast(self, buffer, count, datatype, root, stream):
            calls.append(("bcast", self.number, buffer, count, datatype, root, stream))

    class FakeStream:
        def __init__(self, ptr):
            self.ptr = ptr

        def record(self):
            calls.append(("record", self.ptr))
            return types.SimpleNamespace(synchronize=None, stream=self.ptr)

        def wait_event(self, event):
            calls.append(("wait_event", self.ptr, event.stream))

    current = FakeStream(99)
    fake_nccl = types.SimpleNamespace(NcclCommunicator=FakeNcclCommunicator, get_unique_id=lambda: (7, 7),
                                      NCCL_SUM=0, NCCL_FLOAT32=7, NCCL_FLOAT64=8, NCCL_FLOAT16=6, NCCL_INT32=2,
                                      NCCL_INT64=4, NCCL_UINT8=1)
    fake_cuda = types.SimpleNamespace(nccl=fake_nccl, get_current_stream=lambda: current,
                                      Stream=lambda non_blocking: FakeStream(55))
    fake_cupy = types.ModuleType("cupy")
    fake_cupy.cuda = fake_cuda
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setitem(sys.modules, "cupy.cuda", fake_cuda)
    monkeypatch.setitem(sys.modules, "cupy.cuda.nccl", fake_nccl)

    class DeviceArray:  # what NCCL sees of a CuPy array
        def __init__(self, size, dtype):
            self.size, self.dtype, self.data = size, np.dtype(dtype), types.SimpleNamespace(ptr=1234)

    comm = nccl.NCCLCommunicator(LocalCommunicator())
    comm.allreduce_sum(DeviceArray(10, np.float32))
    comm.broadcast(DeviceArray(3, np.float64), root=0)
    comm.wait(comm.start_allreduce_sum(DeviceArray(4, np.float32)))
    host = np.ones(2)
    assert comm.allreduce_sum(host) is host  # host arrays go to the MPI communicator
    assert calls == [("init", 1, (7, 7), 0), ("init", 1, (7, 7), 0),
                     ("allReduce", 0, 1234, 1234, 10, 7, 0, 99), ("bcast", 0, 1234, 3, 8, 0, 99),
                     # a gradient bucket: the side stream waits for the current one, reduces on the
                     # gradients' communicator, and the current stream waits for it
                     ("record", 99), ("wait_event", 55, 99), ("allReduce", 1, 1234, 1234, 4, 7, 0, 55),
                     ("record", 55), ("wait_event", 99, 55)]
    with pytest.raises(TypeError, match="dtype complex64"):
        comm.allreduce_sum(DeviceArray(1, np.complex64))


def test_nccl_available_says_why_not():
    available, reason = nccl.nccl_available()
    assert available == (reason == "")


@pytest.mark.gpu
def test_nccl_world_of_one_gpu_keeps_values():
    import cupy
    pytest.importorskip("cupy.cuda.nccl")
    ok, reason = nccl.nccl_available()
    if not ok:
        pytest.skip(f"NCCL not available: {reason}")
    comm = nccl.NCCLCommunicator(LocalCommunicator())
    values = cupy.arange(5, dtype=cupy.float32)
    comm.allreduce_sum(values)
    comm.broadcast(values)
    cupy.cuda.get_current_stream().synchronize()
    np.testing.assert_array_equal(values.get(), np.arange(5, dtype=np.float32))


def test_launch_without_mpi_explains_what_is_missing(monkeypatch, tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    monkeypatch.setattr(launch, "find_mpiexec", lambda: None)
    monkeypatch.setattr(launch.importlib.util, "find_spec", lambda name: None)
    assert cli.main(["launch", "-n", "4", str(script)]) == 2
    err = capsys.readouterr().err
    assert "cannot start 4 processes" in err and "mpi4py is not installed" in err and "no mpiexec" in err
    assert "pip install 'deepcore[distributed]'" in err


def test_launch_gives_each_process_its_share_of_the_cores_unless_told(monkeypatch):
    monkeypatch.setattr(launch.os, "cpu_count", lambda: 8)
    assert launch.thread_environment(4, {})["NUMBA_NUM_THREADS"] == "2"
    assert launch.thread_environment(16, {})["OMP_NUM_THREADS"] == "1"
    assert launch.thread_environment(4, {"OMP_NUM_THREADS": "3"}) == {"OMP_NUM_THREADS": "3"}


@pytest.mark.parametrize("argv, message", [(["-n", "0", "x.py"], "-n must be >= 1"),
                                           (["-n", "2", "does_not_exist.py"], "no such script"),
                                           (["train.py"], "required")])
def test_launch_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["launch"] + argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
