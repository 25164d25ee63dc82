"""Naive loop references for convolution and pooling (any rank, groups, channels last), written
independently of deepcore: each output position is a sum or a max over its own window."""
import itertools
import math

import numpy as np


def same_pads(sizes, kernel, stride, dilation):
    pads = []
    for n, k, s, d in zip(sizes, kernel, stride, dilation):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def naive_conv(x, w, stride, padding, dilation, groups=1):
    rank = w.ndim - 2
    kernel = w.shape[:rank]
    pads = same_pads(x.shape[1:-1], kernel, stride, dilation) if padding == "same" else [(0, 0)] * rank
    xpad = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out = [(n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(xpad.shape[1:-1], kernel, stride, dilation)]
    cg, og = w.shape[-2], w.shape[-1] // groups
    y = np.zeros((x.shape[0], *out, w.shape[-1]))
    for o in itertools.product(*map(range, out)):
        for g in range(groups):
            total = 0
            for i in itertools.product(*map(range, kernel)):
                pixel = xpad[(slice(None),) + tuple(a * s + b * d for a, b, s, d in zip(o, i, stride, dilation))]
                total = total + pixel[:, g * cg:(g + 1) * cg] @ w[i][:, g * og:(g + 1) * og]
            y[(slice(None),) + o + (slice(g * og, (g + 1) * og),)] = total
    return y


def naive_pool(x, pool, stride, padding, kind):
    rank = len(pool)
    pads = same_pads(x.shape[1:-1], pool, stride, (1,) * rank) if padding == "same" else [(0, 0)] * rank
    out = [(n + a + b - k) // s + 1 for n, (a, b), k, s in zip(x.shape[1:-1], pads, pool, stride)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for o in itertools.product(*map(range, out)):
        window = tuple(slice(max(a * s - p, 0), min(a * s - p + k, n))
                       for a, s, (p, _), k, n in zip(o, stride, pads, pool, x.shape[1:-1]))
        patch = x[(slice(None),) + window].reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None),) + o] = patch.max(1) if kind == "max" else patch.mean(1)
    return y


def naive_conv2d_transpose(x, w, stride, dilation):
    """The full (uncropped) transposed convolution: every input pixel scatters x @ w[i, j].T."""
    kh, kw = w.shape[:2]
    n, h, wd, _ = x.shape
    full = np.zeros((n, (h - 1) * stride[0] + (kh - 1) * dilation[0] + 1,
                     (wd - 1) * stride[1] + (kw - 1) * dilation[1] + 1, w.shape[2]))
    for p, q, i, j in itertools.product(range(h), range(wd), range(kh), range(kw)):
        full[:, p * stride[0] + i * dilation[0], q * stride[1] + j * dilation[1]] += x[:, p, q] @ w[i, j].T
    return full
