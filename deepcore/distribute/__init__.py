"""Data parallelism on existing engines: MPI (mpi4py) starts the ranks and reduces on the CPU; NCCL
(cupy.cuda.nccl) reduces on GPUs. ``with dc.distribute.DataParallel().scope():`` around model building,
an unchanged ``fit``, launched with ``mpiexec -n N python train.py`` or ``deepcore launch -n N train.py``."""
from .context import LOCAL, LocalStrategy, current
from .strategy import DataParallel

__all__ = ["DataParallel", "LocalStrategy", "LOCAL", "current"]
