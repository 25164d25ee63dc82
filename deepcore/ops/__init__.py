"""Differentiable functional ops: each is a Function with forward and backward."""
from ..autograd.arithmetic import (add, cast, div, exp, getitem, log, matmul, mean, mul, neg, power, sub,
                                   sum, transpose)
from .activations import (absolute, crelu, elu, exponential, gelu, hard_sigmoid, hard_silu, hard_swish, leaky_relu,
                          linear, log_softmax, mish, prelu, relu, relu6, selu, sigmoid, silu, softmax, softplus,
                          softsign, swish, tanh)
from .conv import conv2d, conv2d_transpose
from .conv_nd import conv1d, conv3d, depthwise_conv  # conv_nd.conv, not ops.conv: that name is the module
from .losses import (binary_crossentropy, categorical_crossentropy, mean_squared_error,
                     sparse_categorical_crossentropy)
from .nn import bias_add, bias_relu, dense, dropout
from .normalization import (batch_norm_infer, batch_norm_train, group_norm, layer_norm, local_response_norm,
                            standardize)
from .pooling import avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d
from .recurrent import gru, lstm, simple_rnn
from .reduction import max, maximum, min, minimum
from .upsampling import upsample_bilinear2d, upsample_nearest
from .shape import (broadcast_to, concatenate, depth_to_space, flatten, pad, repeat_vector, reshape,
                    space_to_depth)
