"""``deepcore launch -n N script.py [args]``: ``mpiexec -n N <this python> script.py [args]``, with a clear
message when MPI is missing. The mpiexec beside this Python (installed there by the MPICH or Open MPI
wheel of ``pip install 'deepcore[distributed]'``) comes first, then the one on PATH.

Unless the environment already sets them, each process gets CPU cores / N threads for numba, OpenMP and
BLAS (as torchrun does): N processes each starting one thread per core oversubscribe the cores."""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .communicator import INSTALL_HINT

THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def find_mpiexec():
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.is_file() else shutil.which("mpiexec")


def missing_parts(mpiexec) -> list:
    """What a multi-process run needs and this environment lacks."""
    missing = []
    if importlib.util.find_spec("mpi4py") is None:
        missing.append(f"mpi4py is not installed in {sys.executable}")
    if mpiexec is None:
        missing.append("no mpiexec beside this Python nor on PATH")
    return missing


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="deepcore launch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--processes", type=int, required=True, help="number of processes (ranks)")
    parser.add_argument("--mpiexec", default=None, help="the mpiexec to use (default: found as above)")
    parser.add_argument("script", help="the training script")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="arguments for the script")
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error(f"-n must be >= 1, got {args.processes}")
    if not Path(args.script).is_file():
        parser.error(f"no such script: {args.script}")
    mpiexec = args.mpiexec or find_mpiexec()
    missing = missing_parts(mpiexec)
    if missing:
        print("deepcore launch: cannot start " + str(args.processes) + " processes: " + "; ".join(missing) +
              f".\nInstall MPI with: {INSTALL_HINT}\nor run one process: {Path(sys.executable).name} "
              f"{args.script}", file=sys.stderr)
        return 2
    command = [mpiexec, "-n", str(args.processes), sys.executable, args.script, *args.arguments]
    return subprocess.run(command, env=thread_environment(args.processes)).returncode


def thread_environment(processes, environment=None):
    """``environment`` (default os.environ) with cores / processes threads each, unless it sets any count."""
    environment = dict(os.environ if environment is None else environment)
    if not any(name in environment for name in THREAD_VARIABLES):
        threads = str(max(1, (os.cpu_count() or 1) // processes))
        environment.update({name: threads for name in THREAD_VARIABLES})
    return environment
