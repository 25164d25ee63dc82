"""Reverse-mode automatic differentiation over NumPy/CuPy arrays."""
from .function import Function, enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradientCheckError, grad_check
from .tape import GradientTape
from .tensor import Tensor, as_tensor

__all__ = ["Tensor", "as_tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled",
           "grad_check", "GradientCheckError", "GradientTape"]
