"""``dc.data``: batching, shuffling and background prefetch of arrays (``Pipeline``), and the
augmentation and normalization transforms that ``Pipeline`` and the preprocessing layers share.

    train = dc.data.Pipeline(x_train, y_train, batch_size=128, transforms=[
        dc.data.RandomCrop(32, 32, padding=4), dc.data.RandomFlip("horizontal"),
        dc.data.Normalize.from_data(x_train)])
    model.fit(train, epochs=10, shuffle=False)   # the pipeline shuffles
"""
from .pipeline import Pipeline
from .transforms import (ColorJitter, Cutout, Normalize, RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
                         RandomRotation, RandomTranslation, RandomZoom, Transform, moments)

__all__ = ["Pipeline", "Transform", "RandomFlip", "RandomCrop", "RandomTranslation", "RandomRotation",
           "RandomZoom", "RandomBrightness", "RandomContrast", "ColorJitter", "Cutout", "Normalize", "moments"]
