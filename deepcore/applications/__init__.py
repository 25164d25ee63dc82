"""The model zoo: Keras-style constructors of the classic architectures, returning functional models with
random weights (``weights=None``; nothing is downloaded).

    model = dc.applications.ResNet50(input_shape=(224, 224, 3), classes=1000)
"""
from .alexnet import AlexNet, ZFNet
from .densenet import DenseNet, DenseNet121, DenseNet169, DenseNet201
from .inception import GoogLeNet, InceptionV1
from .lenet import LeNet5
from .mobilenet import MobileNet
from .resnet import ResNet18, ResNet20, ResNet32, ResNet34, ResNet50, ResNet56, ResNet101, ResNet152, cifar_resnet
from .resnext import ResNeXt50
from .senet import SEResNet50
from .vgg import VGG11, VGG13, VGG16, VGG19, vgg
