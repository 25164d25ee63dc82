"""Differentiable functional ops: each is a Function with forward and backward."""
from ..autograd.arithmetic import (add, cast, div, exp, getitem, log, matmul, mean, mul, neg, power, sub,
                                   sum, transpose)
from .activations import leaky_relu, linear, relu, sigmoid, softmax, tanh
from .conv import conv2d
from .losses import (binary_crossentropy, categorical_crossentropy, mean_squared_error,
                     sparse_categorical_crossentropy)
from .nn import bias_add, bias_relu, dense, dropout
from .normalization import batch_norm_infer, batch_norm_train
from .pooling import avg_pool2d, max_pool2d
from .shape import flatten, reshape
