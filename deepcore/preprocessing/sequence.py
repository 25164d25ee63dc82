"""``pad_sequences``: variable-length sequences to one (samples, maxlen, ...) array, as Keras."""
from __future__ import annotations

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (with ``value``) or cut each sequence to ``maxlen`` (default: the longest), at the start
    ('pre', Keras' default) or the end ('post'). Elements may be vectors: the result is then
    (samples, maxlen) + their shape."""
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: sequences must be a list of iterables, got {type(sequences).__name__}")
    lengths, sample_shape = [], ()
    for s in sequences:
        if not hasattr(s, "__len__"):
            raise ValueError(f"pad_sequences: sequences must be a list of iterables; found non-iterable {s!r}")
        lengths.append(len(s))
        if len(s) and not sample_shape:
            sample_shape = np.asarray(s).shape[1:]
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding and truncating must be 'pre' or 'post', got {padding!r} and "
                         f"{truncating!r}")
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be a non-negative int or None, got {maxlen!r}")
    text_dtype = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and dtype is not object and not text_dtype:
        raise ValueError(f"pad_sequences: dtype {dtype} cannot hold the string value {value!r}; use dtype=object "
                         f"for variable-length strings")
    x = np.full((len(lengths), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: sequence {i} has elements of shape {kept.shape[1:]}, the others "
                             f"{tuple(sample_shape)}")
        if padding == "post":
            x[i, :len(kept)] = kept
        else:
            x[i, -len(kept):] = kept
    return x
