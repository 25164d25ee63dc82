"""deepcore: a Keras-compatible deep-learning framework on NumPy (CPU) and CuPy (GPU).

``import deepcore as keras`` runs typical Keras code unchanged.
"""
__version__ = "0.1.0"

from . import activations, applications, backend, callbacks, initializers, layers, losses, metrics, models, ops, optimizers
from . import constraints, data, datasets, distribute, preprocessing, random, regularizers, saving, utils
from .autograd import GradientTape, Tensor, grad_check, no_grad
from .autograd.variable import Variable
from .backend import device, get_device, set_device
from .layers import Input
from .models import Model, Sequential
from .models.saving import load_model


def info() -> dict:
    """Versions, devices and the GPU probe's verdict, as ``deepcore info`` prints them."""
    from .cli import collect_info
    return collect_info()
