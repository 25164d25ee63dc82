"""``deepcore bench``: model throughput and kernel microbenchmarks, CPU vs GPU vs PyTorch (see ``cli``)."""
