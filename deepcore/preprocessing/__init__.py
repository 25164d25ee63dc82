"""``keras.preprocessing``'s surviving part in Keras 3: ``sequence.pad_sequences``."""
from . import sequence

__all__ = ["sequence"]
