"""Keras-style layers."""
from .base import KerasTensor, Layer
from .convolutional import Conv2D
from .activation import ELU, RBF, LeakyReLU, LogSoftmax, Maxout, PReLU, ReLU, Softmax
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape
from .merging import Add, Average, Multiply, Subtract
from .normalization import BatchNormalization
from .pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPool2D,
                      MaxPooling2D)

Convolution2D = Conv2D
