"""Keras-style layers."""
from .base import KerasTensor, Layer
from .convolutional import Conv2D
from .activation import ELU, RBF, LeakyReLU, LogSoftmax, Maxout, PReLU, ReLU, Softmax
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .normalization import BatchNormalization
from .reshaping import (Cropping1D, Cropping2D, Cropping3D, DepthToSpace, Permute, RepeatVector, SpaceToDepth,
                        UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)
from .pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPool2D,
                      MaxPooling2D)

Convolution2D = Conv2D
