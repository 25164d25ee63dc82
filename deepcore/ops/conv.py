"""2-D convolution, NHWC, filters (kh, kw, in, out): forward and backward.

The kernels (``conv2d_forward``, ``conv2d_bias_relu_forward``,
``conv2d_backward_data``, ``conv2d_backward_filter``) come from the device's
kernel table; their reference is im2col + one GEMM in ``backend/reference.py``.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..backend import kernels
from ..backend.reference import conv_output_size


def pair(value, name="value"):
    """An int or a pair of ints as an (h, w) tuple."""
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name}: expected an int or a pair of ints, got {value!r}")
    return value


def resolve_padding(padding, size_hw, kernel, stride, dilation=(1, 1)):
    """'valid' | 'same' (TensorFlow's split: the extra pixel goes after) -> ((top, bottom), (left, right))."""
    if padding == "valid":
        return tuple((0, 0) for _ in size_hw)
    if padding != "same":
        raise ValueError(f"padding: expected 'valid' or 'same', got {padding!r}")
    pads = []
    for size, k, s, d in zip(size_hw, kernel, stride, dilation):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


class Conv2D(Function):
    def __init__(self, stride, padding, dilation):
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, w):
        self.x, self.w = x, w
        return kernels(x).conv2d_forward(x, w, self.stride, self.padding, self.dilation)

    def backward(self, gy):
        k = kernels(gy)
        args = (self.stride, self.padding, self.dilation)
        gx = k.conv2d_backward_data(gy, self.w, self.x.shape, *args) if self.needs_input_grad[0] else None
        gw = k.conv2d_backward_filter(self.x, gy, self.w.shape, *args) if self.needs_input_grad[1] else None
        return gx, gw


class Conv2DBias(Conv2D):
    """conv2d(x, w) + b, then ReLU when ``relu``: one kernel, the bias and ReLU applied to each chunk of the
    output by the thread that computed it (a Conv2D layer's forward)."""

    def __init__(self, stride, padding, dilation, relu):
        super().__init__(stride, padding, dilation)
        self.relu = relu

    def forward(self, x, w, b):
        self.x, self.w = x, w
        y = kernels(x).conv2d_bias_relu_forward(x, w, b, self.stride, self.padding, self.dilation, self.relu)
        self.y = y if self.relu else None
        return y

    def backward(self, gy):
        if self.relu:
            gy, gb = kernels(gy).bias_relu_backward(gy, self.y)
        else:
            gb = gy.reshape(-1, gy.shape[-1]).sum(axis=0)
        return (*super().backward(gy), gb)


def _conv2d_geometry(x, w, strides, padding, dilation_rate):
    """(stride, explicit padding, dilation) of conv2d, after checking the shapes."""
    stride, dilation = pair(strides, "strides"), pair(dilation_rate, "dilation_rate")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv2d: strides and dilation_rate must be >= 1, got {stride} and {dilation}")
    if x.ndim != 4 or w.ndim != 4 or x.shape[-1] != w.shape[2]:
        raise ValueError(f"conv2d: expected x (N, H, W, C) and w (kh, kw, C, out), got {x.shape} and {w.shape}")
    pads = resolve_padding(padding, x.shape[1:3], w.shape[:2], stride, dilation)
    for axis in range(2):
        if conv_output_size(x.shape[1 + axis], w.shape[axis], stride[axis], *pads[axis], dilation[axis]) < 1:
            raise ValueError(f"conv2d: input {x.shape} is smaller than the kernel {w.shape[:2]} "
                             f"(dilation {dilation}) with padding {padding!r}")
    return stride, pads, dilation


def conv2d(x, w, strides=1, padding="valid", dilation_rate=1):
    """Cross-correlation of NHWC ``x`` with ``w`` of shape (kh, kw, in, out), as Keras' Conv2D."""
    stride, pads, dilation = _conv2d_geometry(x, w, strides, padding, dilation_rate)
    return Conv2D.apply(x, w, stride=stride, padding=pads, dilation=dilation)


def conv2d_bias(x, w, b, strides=1, padding="valid", dilation_rate=1, relu=False):
    """conv2d(x, w) + b (one value per output channel), then ReLU when ``relu``, in one kernel."""
    stride, pads, dilation = _conv2d_geometry(x, w, strides, padding, dilation_rate)
    if tuple(b.shape) != (w.shape[-1],):
        raise ValueError(f"conv2d_bias: expected a bias of shape ({w.shape[-1]},), got {tuple(b.shape)}")
    return Conv2DBias.apply(x, w, b, stride=stride, padding=pads, dilation=dilation, relu=relu)


def conv_transpose_output_size(size, kernel, stride, padding, output_padding=None, dilation=1):
    """Keras' ``deconv_output_length``."""
    kernel = (kernel - 1) * dilation + 1
    if output_padding is None:
        return size * stride + max(kernel - stride, 0) if padding == "valid" else size * stride
    pad = kernel // 2 if padding == "same" else 0
    return (size - 1) * stride + kernel - 2 * pad + output_padding


class Conv2DTranspose(Function):
    """The adjoint of Conv2D: forward is conv2d's backward-data, backward is conv2d forward and backward-filter."""

    def __init__(self, output_shape, stride, padding, dilation):
        self.output_shape = output_shape
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, w):
        self.x, self.w = x, w
        return kernels(x).conv2d_backward_data(x, w, self.output_shape, self.stride, self.padding, self.dilation)

    def backward(self, gy):
        k = kernels(gy)
        args = (self.stride, self.padding, self.dilation)
        gx = k.conv2d_forward(gy, self.w, *args) if self.needs_input_grad[0] else None
        gw = k.conv2d_backward_filter(gy, self.x, self.w.shape, *args) if self.needs_input_grad[1] else None
        return gx, gw


def conv2d_transpose(x, w, strides=1, padding="valid", output_padding=None, dilation_rate=1):
    """Transposed convolution of NHWC ``x`` with ``w`` of shape (kh, kw, out, in), as Keras' Conv2DTranspose.

    The output size is Keras' (``conv_transpose_output_size``); padding is TensorFlow's: the 'valid' or
    'same' padding of the forward convolution that maps the output back to the input's size.
    """
    stride, dilation = pair(strides, "strides"), pair(dilation_rate, "dilation_rate")
    extra = (None, None) if output_padding is None else pair(output_padding, "output_padding")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv2d_transpose: strides and dilation_rate must be >= 1, got {stride} and {dilation}")
    if x.ndim != 4 or w.ndim != 4 or x.shape[-1] != w.shape[3]:
        raise ValueError(f"conv2d_transpose: expected x (N, H, W, C) and w (kh, kw, out, C), got {x.shape} and "
                         f"{w.shape}")
    if padding not in ("valid", "same"):
        raise ValueError(f"conv2d_transpose: padding must be 'valid' or 'same', got {padding!r}")
    if extra[0] is not None and not all(0 <= e < s for e, s in zip(extra, stride)):
        raise ValueError(f"conv2d_transpose: output_padding {extra} must be >= 0 and smaller than strides {stride}")
    out = tuple(conv_transpose_output_size(n, k, s, padding, e, d)
                for n, k, s, e, d in zip(x.shape[1:3], w.shape[:2], stride, extra, dilation))
    pads = resolve_padding(padding, out, w.shape[:2], stride, dilation)
    for axis in range(2):
        if min(out) < 1 or conv_output_size(out[axis], w.shape[axis], stride[axis], *pads[axis],
                                            dilation[axis]) != x.shape[1 + axis]:
            raise ValueError(f"conv2d_transpose: no {padding!r} output size maps back to input {x.shape} with "
                             f"kernel {w.shape[:2]}, strides {stride}, output_padding {output_padding}")
    return Conv2DTranspose.apply(x, w, output_shape=(x.shape[0], *out, w.shape[2]), stride=stride, padding=pads,
                                 dilation=dilation)
