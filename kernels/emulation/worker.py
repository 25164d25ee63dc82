"""The process that runs emulated kernel launches: ``python -I worker.py LIBRARY``.

deepcore/backend/cuda_emulation.py starts one per loaded library (with a sanitizer's
runtime in LD_PRELOAD for the asan and tsan modes) and writes launches to its stdin:
a JSON header line ``{"kernel", "grid", "block", "args", "written"}``, then the bytes
of every argument in order. ``args[i]`` is ``{"scalar": nbytes}``, ``{"pointer":
nbytes}``, ``{"table": [nbytes, ...]}`` (a device array of pointers, one array per
entry) or ``{"alias": j}`` (the same array as argument j). After the launch the worker
answers ``ok`` and the bytes of the arrays of the ``written`` arguments. A crash, a
sanitizer report or an emulator error ends the process instead: its stderr is the report.

Only the standard library and NumPy: nothing of deepcore is imported here.
"""
import ctypes
import json
import os
import sys

import numpy as np


def serve(library: str) -> None:
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a kernel's printf must not corrupt the replies
    launch = ctypes.CDLL(library).cudaemu_launch
    launch.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint),
                       ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]

    def read_buffer(size):  # a fresh allocation of exactly `size` bytes, aligned as malloc's
        return np.frombuffer(requests.read(size), np.uint8).copy()

    while header_line := requests.readline():
        header = json.loads(header_line)
        described = header["args"]
        params = (ctypes.c_void_p * len(described))()
        sizes = (ctypes.c_size_t * len(described))()
        kept, data = [], {}  # kept: everything params point into; data: the buffers of each argument
        for index, arg in enumerate(described):
            if "scalar" in arg:
                value = read_buffer(arg["scalar"])
                params[index] = value.ctypes.data
                kept.append(value)
                continue
            if "alias" in arg:
                data[index] = data[arg["alias"]]
            else:
                data[index] = [read_buffer(size) for size in arg.get("table", [arg.get("pointer")])]
            buffers = data[index]
            if "table" in arg:
                table = np.array([b.ctypes.data for b in buffers], np.uint64)
                holder, sizes[index] = ctypes.c_void_p(table.ctypes.data), table.nbytes
                kept.append(table)
            else:
                holder, sizes[index] = ctypes.c_void_p(buffers[0].ctypes.data), buffers[0].nbytes
            kept.append(holder)
            params[index] = ctypes.addressof(holder)
        status = launch(header["kernel"].encode(), (ctypes.c_uint * 3)(*header["grid"]),
                        (ctypes.c_uint * 3)(*header["block"]), params, sizes)
        if status != 0:
            raise SystemExit(f"cudaemu: {library} has no kernel {header['kernel']}")
        replies.write(b"ok\n")
        for index in header["written"]:
            for buffer in data[index]:
                replies.write(buffer.tobytes())
        replies.flush()


if __name__ == "__main__":
    serve(sys.argv[1])
