"""Convolution (1-D/3-D, groups, depthwise, transposed) and pooling (1-D/3-D) ops: float64 gradient
checks, naive references, and hypothesis properties of shapes."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepcore import ops
from deepcore.autograd import Tensor, grad_check
from deepcore.backend import to_device
from deepcore.ops import pooling as P
from deepcore.ops.conv import conv2d_transpose
from deepcore.ops.conv_nd import conv, depthwise_conv

from conv_reference import naive_conv, naive_conv2d_transpose, naive_pool, same_pads


def host(a):
    return to_device(a, "cpu")


rng = np.random.default_rng(2)


def arrays(xp, *shapes):
    return [xp.asarray(rng.standard_normal(s)) for s in shapes]


CONVS = [  # x shape, w shape, strides, padding, dilation, groups
    ((2, 7, 3), (3, 3, 4), 2, "same", 1, 1),
    ((2, 7, 4), (2, 2, 6), 1, "valid", 2, 2),
    ((2, 7, 3), (3, 3, 2), 1, "causal", 2, 1),
    ((1, 4, 5, 3, 2), (2, 3, 2, 2, 3), (1, 2, 1), "same", 1, 1),
    ((1, 5, 4, 4, 4), (3, 2, 2, 2, 4), 1, "valid", (2, 1, 1), 2),
    ((2, 5, 6, 4), (3, 3, 2, 6), 1, "same", 1, 2),
    ((2, 6, 5, 6), (2, 3, 1, 6), 2, "valid", 1, 6),
]


@pytest.mark.parametrize("xs,ws,strides,padding,dilation,groups", CONVS)
def test_conv_gradients(xp, xs, ws, strides, padding, dilation, groups):
    x, w = arrays(xp, xs, ws)
    grad_check(lambda a, b: conv(a, b, strides, padding, dilation, groups), [x, w])


@pytest.mark.parametrize("xs,ws,strides,padding,dilation,groups", CONVS)
def test_conv_matches_naive_loops(xs, ws, strides, padding, dilation, groups):
    x, w = arrays(np, xs, ws)
    rank = len(ws) - 2
    as_tuple = lambda v: (v,) * rank if isinstance(v, int) else v
    if padding == "causal":
        x_ref, padding_ref = np.pad(x, ((0, 0), ((ws[0] - 1) * dilation, 0), (0, 0))), "valid"
    else:
        x_ref, padding_ref = x, padding
    expected = naive_conv(x_ref, w, as_tuple(strides), padding_ref, as_tuple(dilation), groups)
    np.testing.assert_allclose(conv(Tensor(x), Tensor(w), strides, padding, dilation, groups).data, expected,
                               rtol=1e-10, atol=1e-10)


def test_depthwise_is_grouped_conv_with_multiplier(xp):
    x, w = arrays(xp, (2, 6, 5, 3), (3, 2, 3, 2))
    grad_check(lambda a, b: depthwise_conv(a, b, 1, "same"), [x, w])
    got = host(depthwise_conv(Tensor(x), Tensor(w), 2, "valid").data)
    x, w = host(x), host(w)
    expected = np.concatenate([naive_conv(x[..., c:c + 1], w[:, :, c:c + 1, :], (2, 2), "valid", (1, 1))
                               for c in range(3)], axis=-1)  # channel c*M + m
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


TRANSPOSED = [(2, 3, "same", None, 1), (2, 3, "valid", None, 1), (3, 2, "valid", None, 1),
              (2, 3, "same", 1, 1), (1, 3, "same", None, 2), (2, 4, "valid", 1, 1), ((2, 1), (2, 3), "same", None, 1)]


def keras_transpose_length(n, k, s, padding, output_padding, d):
    k = (k - 1) * d + 1
    if output_padding is None:
        return n * s + max(k - s, 0) if padding == "valid" else n * s
    return (n - 1) * s + k - 2 * (k // 2 if padding == "same" else 0) + output_padding


@pytest.mark.parametrize("strides,kernel,padding,output_padding,dilation", TRANSPOSED)
def test_conv2d_transpose(xp, strides, kernel, padding, output_padding, dilation):
    kernel = (kernel,) * 2 if isinstance(kernel, int) else kernel
    x, w = arrays(xp, (2, 3, 4, 3), kernel + (2, 3))
    fn = lambda a, b: conv2d_transpose(a, b, strides, padding, output_padding, dilation)
    grad_check(fn, [x, w])
    s = (strides,) * 2 if isinstance(strides, int) else strides
    full = naive_conv2d_transpose(host(x), host(w), s, (dilation,) * 2)
    out = [keras_transpose_length(n, k, st, padding, output_padding, dilation)
           for n, k, st in zip((3, 4), kernel, s)]
    # TensorFlow crops the full result by the padding of the conv that maps `out` back to the input
    pads = same_pads(out, kernel, s, (dilation,) * 2) if padding == "same" else [(0, 0), (0, 0)]
    full = np.pad(full, ((0, 0), (0, max(out[0] - full.shape[1], 0)), (0, max(out[1] - full.shape[2], 0)), (0, 0)))
    expected = full[:, pads[0][0]:pads[0][0] + out[0], pads[1][0]:pads[1][0] + out[1]]
    np.testing.assert_allclose(host(fn(Tensor(x), Tensor(w)).data), expected, rtol=1e-10, atol=1e-10)


POOLS = [(1, 3, 2, "same"), (1, 2, None, "valid"), (3, 2, None, "valid"), (3, (2, 3, 2), (1, 2, 2), "same"),
         (3, 3, 2, "same")]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("rank,pool,strides,padding", POOLS)
def test_pooling_1d_3d(xp, kind, rank, pool, strides, padding):
    shape = (2, 7, 3) if rank == 1 else (1, 4, 5, 6, 2)
    (x,) = arrays(xp, shape)
    op = getattr(P, f"{kind}_pool{rank}d")
    grad_check(lambda a: op(a, pool, strides, padding), [x])
    pool_t = (pool,) * rank if isinstance(pool, int) else pool
    stride_t = pool_t if strides is None else ((strides,) * rank if isinstance(strides, int) else strides)
    np.testing.assert_allclose(host(op(Tensor(x), pool, strides, padding).data),
                               naive_pool(host(x), pool_t, stride_t, padding, kind), rtol=1e-12)


def keras_conv_length(n, k, s, d, padding):
    k = (k - 1) * d + 1
    return -(-n // s) if padding == "same" else (n - k) // s + 1


@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 9), kernel=st.integers(1, 4), stride=st.integers(1, 4), dilation=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), groups=st.sampled_from([1, 2]), rank=st.integers(1, 3))
def test_conv_shape_property(size, kernel, stride, dilation, padding, groups, rank):
    expected = keras_conv_length(size, kernel, stride, dilation, padding)
    x = Tensor(np.ones((1,) + (size,) * rank + (2,)), requires_grad=True)
    w = Tensor(np.ones((kernel,) * rank + (2 // groups, 2)), requires_grad=True)
    if expected < 1:
        with pytest.raises(ValueError, match="smaller than the kernel"):
            conv(x, w, stride, padding, dilation, groups)
        return
    y = conv(x, w, stride, padding, dilation, groups)
    assert y.shape == (1,) + (expected,) * rank + (2,)
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape


@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 9), pool=st.integers(1, 4), stride=st.integers(1, 4),
       padding=st.sampled_from(["valid", "same"]), kind=st.sampled_from(["max", "avg"]), rank=st.integers(1, 3))
def test_pool_shape_property(size, pool, stride, padding, kind, rank):
    expected = keras_conv_length(size, pool, stride, 1, padding)
    x = Tensor(np.ones((1,) + (size,) * rank + (2,)), requires_grad=True)
    op = getattr(P, f"{kind}_pool{rank}d")
    if expected < 1:
        with pytest.raises(ValueError, match="smaller than pool_size"):
            op(x, pool, stride, padding)
        return
    y = op(x, pool, stride, padding)
    assert y.shape == (1,) + (expected,) * rank + (2,)
    y.sum().backward()
    assert x.grad.shape == x.shape


@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 6), kernel=st.integers(1, 4), stride=st.integers(1, 3), dilation=st.integers(1, 2),
       padding=st.sampled_from(["valid", "same"]))
def test_conv2d_transpose_shape_property(size, kernel, stride, dilation, padding):
    x = Tensor(np.ones((1, size, size, 2)), requires_grad=True)
    w = Tensor(np.ones((kernel, kernel, 3, 2)), requires_grad=True)
    y = conv2d_transpose(x, w, stride, padding, None, dilation)
    assert y.shape[1] == keras_transpose_length(size, kernel, stride, padding, None, dilation)
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape


def test_bad_conv_arguments():
    x = Tensor(np.zeros((1, 5, 5, 4)))
    with pytest.raises(ValueError, match="must equal w.shape\\[-2\\] \\(3\\) \\* groups \\(1\\)"):
        conv(x, Tensor(np.zeros((3, 3, 3, 2))))
    with pytest.raises(ValueError, match="causal"):
        conv(x, Tensor(np.zeros((3, 3, 4, 2))), padding="causal")
    with pytest.raises(ValueError, match="padding: expected 'valid' or 'same'"):
        conv(x, Tensor(np.zeros((3, 3, 2, 2))), padding="full", groups=2)
    with pytest.raises(ValueError, match="output_padding"):
        conv2d_transpose(x, Tensor(np.zeros((3, 3, 2, 4))), 2, "same", output_padding=2)
