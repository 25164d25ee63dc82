"""Differentiable functional ops: each is a Function with forward and backward.

The Keras 3 names (``keras.ops.*``: NumPy-like, nn, linalg, core) come last and win where an
internal op of the same name has another signature; docs/keras_ops.md lists which exist.
"""
from ..autograd.arithmetic import (add, cast, div, exp, getitem, log, matmul, mean, mul, neg, power, sub,
                                   sum, transpose)
from .activations import (absolute, crelu, elu, exponential, gelu, hard_sigmoid, hard_silu, hard_swish, leaky_relu,
                          linear, log_softmax, mish, prelu, relu, relu6, selu, sigmoid, silu, softmax, softplus,
                          softsign, swish, tanh)
from .conv import conv2d, conv2d_transpose
from .conv_nd import conv1d, conv3d, depthwise_conv
from .losses import (binary_crossentropy, categorical_crossentropy, mean_squared_error,
                     sparse_categorical_crossentropy)
from .nn import add_relu, bias_add, bias_relu, dense, dropout
from .normalization import (batch_norm_infer, batch_norm_relu, batch_norm_relu_infer, batch_norm_train, group_norm,
                            layer_norm, local_response_norm, standardize)
from .pooling import avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d
from .recurrent import gru, lstm, simple_rnn
from .reduction import max, maximum, min, minimum
from .upsampling import upsample_bilinear2d, upsample_nearest
from .shape import (broadcast_to, concatenate, depth_to_space, flatten, pad, repeat_vector, reshape,
                    space_to_depth)

# --- keras.ops (these names shadow the modules conv.py and shape.py: import those by full path) ---
from . import linalg
from .attention import dot_product_attention
from .core import (associative_scan, cast, cond, convert_to_numpy, convert_to_tensor, copy, custom_gradient, dtype,
                   fori_loop, get_item, is_tensor, map, ndim, saturate_cast, scan, scatter, scatter_update, shape,
                   size, slice, slice_update, stop_gradient, switch, unstack, vectorize, vectorized_map, while_loop)
from .linalg import (cholesky, det, eig, eigh, inv, logdet, lstsq, lu_factor, norm, qr, slogdet, solve,
                     solve_triangular, svd)
from .nn_extra import (average_pool, batch_normalization, binary_crossentropy, categorical_crossentropy, celu, conv,
                       conv_transpose, depthwise_conv, extract_sequences, gelu, glu, hard_shrink, hard_tanh, in_top_k,
                       layer_normalization, log_sigmoid, max_pool, moments, normalize, psnr, rms_normalization,
                       segment_max, segment_sum, separable_conv, soft_shrink, sparse_categorical_crossentropy,
                       sparse_plus, sparsemax, squareplus, tanh_shrink, threshold)
from .numpy_create import (arange, bincount, conj, conjugate, digitize, empty, eye, full, full_like, identity, imag,
                           linspace, logspace, multi_hot, nonzero, one_hot, ones, ones_like, real, searchsorted, tri,
                           unravel_index, zeros, zeros_like)
from .numpy_layout import (append, argpartition, argsort, array_split, broadcast_to, concatenate, diag, diagflat,
                           diagonal, expand_dims, flip, hstack, meshgrid, moveaxis, pad, ravel, repeat, reshape, roll,
                           rot90, sort, split, squeeze, stack, swapaxes, take, take_along_axis, tile, top_k,
                           transpose, tril, triu, vstack)
from .numpy_math import (abs, add, angle, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, bitwise_and,
                         bitwise_invert, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                         bitwise_xor, cbrt, ceil, clip, cos, cosh, deg2rad, divide, divide_no_nan, equal, erf, erfinv,
                         exp, exp2, expm1, floor, floor_divide, greater, greater_equal, heaviside, isclose, isfinite,
                         isin, isinf, isnan, left_shift, less, less_equal, log, log10, log1p, log2, logaddexp,
                         logaddexp2, logical_and, logical_not, logical_or, logical_xor, maximum, minimum, mod,
                         multiply, nan_to_num, negative, not_equal, power, reciprocal, right_shift, round, rsqrt,
                         select, sign, signbit, sin, sinh, sqrt, square, subtract, tan, true_divide, trunc, where)
from .numpy_reduce import (all, amax, amin, any, argmax, argmin, average, corrcoef, count_nonzero, cumprod, cumsum,
                           diff, histogram, logsumexp, max, mean, median, min, prod, quantile, std, sum, trace, var)
from .products import cross, dot, einsum, inner, kron, matmul, outer, tensordot, vdot
from .signal import bartlett, blackman, correlate, fft, fft2, hamming, hanning, ifft2, irfft, kaiser, rfft

absolute = abs
array = convert_to_tensor
