"""DataParallel: one model trained by several processes, each computing on its part of every batch."""
from __future__ import annotations

import weakref

from ..autograd.function import no_grad
from ..backend.device import get_device, to_device
from .buckets import GradientBuckets
from .communicator import LocalCommunicator, MPICommunicator, mpi_world
from .context import LocalStrategy, set_process_strategy
from .follow_chief import FollowChief, abort_on_uncaught_exception
from .nccl import NCCLCommunicator, nccl_available, select_local_gpu
from .reduction import reduced_results
from .sharding import ShardedBatches


class DataParallel(LocalStrategy):
    """Data-parallel training on MPI (processes, hosts) and NCCL (GPUs), Keras-shaped::

        strategy = dc.distribute.DataParallel()
        with strategy.scope():
            model = dc.Sequential([...])
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=256)   # run as: mpiexec -n 4 python train.py  (or deepcore launch -n 4)

    Every rank runs the same script on the same data. ``fit`` is unchanged and gives the same result as
    one process with the same global ``batch_size`` (up to float rounding; BatchNormalization's statistics
    are per rank unless ``synchronized=True``):

    - at the first training step, rank 0's weights and optimizer state are broadcast to every rank;
    - each rank computes on its part of every global batch (rank 0 draws the shuffle; see ``sharding``);
    - the gradients are summed over the ranks, each weighted by its rank's share of the batch (the mean
      over the global batch), in flat buckets of about ``bucket_mb`` MB: one allreduce per bucket, started
      as soon as backward has completed the bucket's gradients when ``overlap`` (from the second step);
    - the loss and metrics in the logs cover every rank's samples;
    - callbacks, progress bars and ``save`` run on rank 0 only; their decisions (stop, learning rate,
      resume) are copied to every rank (``follow_chief``);
    - ``evaluate`` and ``predict`` are sharded the same way; ``predict`` returns every rank's outputs in order
      on every rank;
    - an uncaught exception on any rank ends every rank (MPI_Abort) after printing its traceback.

    Rank and world size come from MPI (mpi4py). Not launched by mpiexec, or without mpi4py, it is a world
    of one process that trains exactly as without a strategy. ``communication``: "auto" (NCCL between
    GPUs when deepcore runs on the GPU and NCCL is available, else MPI), "mpi" or "nccl". On GPU each
    process uses GPU ``local rank % GPUs per host``. On CPU give each process cores / N threads
    (``deepcore launch`` does; under plain mpiexec set NUMBA_NUM_THREADS and OMP_NUM_THREADS).
    """

    def __init__(self, bucket_mb=4.0, communication="auto", overlap=True):
        if communication not in ("auto", "mpi", "nccl"):
            raise ValueError(f"DataParallel: communication must be 'auto', 'mpi' or 'nccl', got {communication!r}")
        if isinstance(bucket_mb, bool) or not isinstance(bucket_mb, (int, float)) or not bucket_mb > 0:
            raise ValueError(f"DataParallel: bucket_mb must be a number > 0, got {bucket_mb!r}")
        world = mpi_world()
        self.host = MPICommunicator(world) if world is not None and world.Get_size() > 1 else LocalCommunicator()
        self.rank, self.size = self.host.rank, self.host.size
        self.is_chief = self.rank == 0
        if self.size > 1:
            select_local_gpu(self.host)  # before anything touches a GPU
        self.device_communicator = self._device_communicator(communication)
        self.bucket_bytes, self.overlap = int(bucket_mb * 2**20), bool(overlap)
        self._buckets = None
        self._training_batches = None  # the ShardedBatches being trained on: its share weights the gradients
        self._synchronized = weakref.WeakSet()
        if self.size > 1:
            abort_on_uncaught_exception(self.host)
        set_process_strategy(self)

    def __repr__(self):
        return f"DataParallel(rank={self.rank}, size={self.size}, communication={self.communication!r})"

    @property
    def communication(self) -> str:
        if isinstance(self.device_communicator, NCCLCommunicator):
            return "nccl"
        return "mpi" if self.size > 1 else "none"

    def _device_communicator(self, communication):
        """NCCL when asked for, or for "auto" when deepcore runs on a GPU and NCCL is there; else MPI."""
        if communication == "mpi" or (communication == "auto" and self.size == 1):
            return self.host
        available, reason = nccl_available()
        if not available:
            if communication == "nccl":
                raise RuntimeError(f"DataParallel: communication='nccl' needs CuPy with NCCL "
                                   f"(pip install 'deepcore[cuda12]' or 'deepcore[cuda13]'): {reason}")
            return self.host
        if self.size == 1:
            return self.host
        if get_device().name == "gpu":
            return NCCLCommunicator(self.host)
        if communication == "nccl":
            raise RuntimeError("DataParallel: communication='nccl' needs deepcore on the GPU, but the current "
                               "device is the CPU")
        return self.host

    # --- the hooks the training loop calls (see context.LocalStrategy) ---------------------------
    def distribute_batches(self, batches, model=None, training=False):
        if self.size == 1:
            return batches
        def first(batch):
            if model not in self._synchronized:
                self.synchronize(model, batch)

        sharded = ShardedBatches(batches, self.host, training=training,
                                 on_first_batch=first if model is not None else None)
        if training:
            self._training_batches = sharded
        return sharded

    @property
    def gradient_hook(self):
        return self._gradient_ready if self.size > 1 and self.overlap and self._buckets is not None else None

    def _gradient_ready(self, variable):
        self._buckets.ready(variable, self._share(), self.device_communicator)

    def reduce_gradients(self, grads, variables):
        if self.size == 1:
            return grads
        if self._buckets is None or not self._buckets.fits(variables):
            self._buckets = GradientBuckets(variables, self.bucket_bytes)
        return self._buckets.reduce(grads, self._share(), self.device_communicator)

    def _share(self):
        return self._training_batches.share if self._training_batches is not None else 1 / self.size

    def results(self, objectives):
        if self.size == 1:
            return objectives.results()
        return reduced_results(objectives.all_metrics(), self.host)

    def training_callbacks(self, callbacks):
        if self.size == 1:
            return callbacks
        return (list(callbacks) if self.is_chief else []) + [FollowChief(self)]

    def gather_outputs(self, outputs, batches):
        if self.size == 1:
            return outputs
        every = self.host.allgather_object((batches.batch_indices, outputs))
        parts = [(index, rank, output) for rank, (indices, chunks) in enumerate(every)
                 for index, output in zip(indices, chunks)]
        return [output for _, _, output in sorted(parts, key=lambda part: part[:2])]

    # --- model state --------------------------------------------------------------------------
    def synchronize(self, model, batch=None):
        """Give every rank rank 0's weights and optimizer state; builds the model on ``batch``'s inputs
        first if it is not built yet."""
        if not model.built:
            if batch is None:
                raise RuntimeError(f"DataParallel: model '{model.name}' is not built; call it on a batch "
                                   f"or give it an Input first")
            from ..models.data_adapter import map_structure
            with no_grad():
                model(map_structure(lambda a: to_device(a, get_device()), batch[0]), training=False)
        for variable in model.weights:
            self.device_communicator.broadcast(variable.data)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            state = self.host.broadcast_object(optimizer.get_state() if self.is_chief and optimizer.iterations
                                               else None)
            if state is not None and not self.is_chief:
                optimizer.set_state(state, model.trainable_weights)
        self._synchronized.add(model)

    def forget(self, model):
        """The next training step synchronizes ``model`` again."""
        self._synchronized.discard(model)
