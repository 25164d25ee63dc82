"""Models: functional and subclassed ``Model``, ``Sequential``, saving."""
from .clone import clone_model
from .model import Model
from .saving import load_model, model_from_config, model_from_json
from .sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_config", "model_from_json"]
