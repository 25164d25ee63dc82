"""Keras-style layers."""
from .activation import ELU, RBF, LeakyReLU, LogSoftmax, Maxout, PReLU, ReLU, Softmax
from .attention import AdditiveAttention, Attention, MultiHeadAttention
from .base import KerasTensor, Layer, SelectOutput
from .conv_transpose import Conv2DTranspose
from .convolutional import Conv1D, Conv2D, Conv3D
from .core import Activation, Dense, Flatten, Input, InputLayer, Reshape
from .depthwise_conv import DepthwiseConv2D, SeparableConv2D
from .embedding import Embedding
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .normalization import (LRN, BatchNormalization, GroupNormalization, LayerNormalization,
                            LocalResponseNormalization)
from .pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D, AvgPool2D, AvgPool3D,
                      GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalAvgPool1D,
                      GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPool1D, MaxPool2D, MaxPool3D,
                      MaxPooling1D, MaxPooling2D, MaxPooling3D)
from .masking import Masking
from .recurrent import GRU, LSTM, SimpleRNN
from .regularization import (AlphaDropout, Dropout, GaussianDropout, GaussianNoise, SpatialDropout1D,
                             SpatialDropout2D, SpatialDropout3D)
from .reshaping import (Cropping1D, Cropping2D, Cropping3D, DepthToSpace, Permute, RepeatVector, SpaceToDepth,
                        UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)
from .wrappers import Bidirectional, TimeDistributed

Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
from .preprocessing import (Normalization, RandomBrightness, RandomContrast, RandomCrop, RandomFlip, RandomRotation,
                            RandomTranslation, RandomZoom, Rescaling)
