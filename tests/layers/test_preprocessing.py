"""Preprocessing layers: harness, augmentation only in training, one implementation with
deepcore.data, seeds, Rescaling/Normalization against NumPy, use inside a saved model, errors."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import data, layers

from layer_harness import run_layer_test

rng = np.random.default_rng(5)
IMAGES = rng.uniform(0, 255, (4, 6, 6, 3)).astype(np.float32)
RANDOM_LAYERS = [
    (layers.RandomFlip, {"mode": "horizontal"}),
    (layers.RandomTranslation, {"height_factor": 0.2, "width_factor": (-0.1, 0.3), "fill_mode": "constant"}),
    (layers.RandomRotation, {"factor": 0.1, "interpolation": "nearest"}),
    (layers.RandomZoom, {"height_factor": 0.2, "width_factor": -0.1}),
    (layers.RandomContrast, {"factor": 0.3}),
    (layers.RandomBrightness, {"factor": (-0.2, 0.1), "value_range": (0, 1)}),
]


@pytest.mark.parametrize("cls,kwargs", RANDOM_LAYERS + [
    (layers.Rescaling, {"scale": 1 / 255, "offset": -0.5}), (layers.Normalization, {"mean": 1.0, "variance": 4.0})])
def test_harness_shape_preserving(cls, kwargs):
    run_layer_test(cls, kwargs, (2, 6, 6, 3), (2, 6, 6, 3))


def test_harness_random_crop_and_adaptable_normalization():
    run_layer_test(layers.RandomCrop, {"height": 4, "width": 3}, (2, 6, 6, 3), (2, 4, 3, 3))
    run_layer_test(layers.Normalization, {}, (2, 6, 6, 3), (2, 6, 6, 3), expected_num_weights=3,
                   expected_num_trainable=0)


@pytest.mark.parametrize("cls,kwargs", RANDOM_LAYERS, ids=lambda v: getattr(v, "__name__", ""))
def test_random_layers_are_identity_outside_training_and_reuse_the_transform(cls, kwargs):
    layer = cls(**kwargs, seed=9)
    for training in (None, False):
        np.testing.assert_array_equal(layer(IMAGES, training=training).numpy(), IMAGES)
    transform_args = {k: v for k, v in kwargs.items()}
    transform = getattr(data, cls.__name__)(**transform_args)
    expected = transform(IMAGES, np.random.default_rng(9))  # the layer's own generator, seeded with 9
    np.testing.assert_allclose(layer(IMAGES, training=True).numpy(), expected, rtol=1e-6)
    assert not np.array_equal(layer(IMAGES, training=True).numpy(), expected)  # new draws each call


def test_random_flip_output_is_each_image_or_its_mirror():
    out = layers.RandomFlip("horizontal")(np.repeat(IMAGES[:1], 64, axis=0), training=True).numpy()
    mirrored = [np.array_equal(image, IMAGES[0, :, ::-1]) for image in out]
    assert all(m or np.array_equal(image, IMAGES[0]) for m, image in zip(mirrored, out))
    assert 10 < sum(mirrored) < 54


def test_without_seed_layers_follow_set_random_seed():
    outputs = []
    for _ in range(2):
        dc.utils.set_random_seed(21)
        outputs.append(layers.RandomRotation(0.2)(IMAGES, training=True).numpy())
    np.testing.assert_array_equal(*outputs)


def bilinear_resize(image, height, width):
    """Half-pixel-centre bilinear resize with edge clamping (TF's resize), pixel by pixel."""
    in_height, in_width, _ = image.shape
    out = np.empty((height, width, image.shape[2]))
    for y, x in np.ndindex(height, width):
        source_y = min(max((y + 0.5) * in_height / height - 0.5, 0), in_height - 1)
        source_x = min(max((x + 0.5) * in_width / width - 0.5, 0), in_width - 1)
        y0, x0 = int(source_y), int(source_x)
        y1, x1 = min(y0 + 1, in_height - 1), min(x0 + 1, in_width - 1)
        dy, dx = source_y - y0, source_x - x0
        out[y, x] = ((1 - dy) * ((1 - dx) * image[y0, x0] + dx * image[y0, x1])
                     + dy * ((1 - dx) * image[y1, x0] + dx * image[y1, x1]))
    return out


def test_random_crop_inference_is_keras_centre_crop_and_resize():
    tall = rng.uniform(0, 1, (2, 8, 6, 3)).astype(np.float32)
    got = layers.RandomCrop(4, 4)(tall).numpy()
    for i in range(2):  # largest centred square: rows 1..6, then 6x6 -> 4x4
        np.testing.assert_allclose(got[i], bilinear_resize(tall[i, 1:7], 4, 4), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(layers.RandomCrop(8, 6)(tall).numpy(), tall)
    small = layers.RandomCrop(10, 10)(tall, training=True).numpy()  # smaller than the window: resized
    np.testing.assert_allclose(small[0], bilinear_resize(tall[0, 1:7], 10, 10), rtol=1e-5, atol=1e-6)
    windows = layers.RandomCrop(4, 4, seed=0)(tall, training=True).numpy()
    for i in range(2):
        assert any(np.array_equal(windows[i], tall[i, t:t + 4, s:s + 4]) for t in range(5) for s in range(3))


def test_rescaling_and_normalization_match_numpy():
    np.testing.assert_allclose(layers.Rescaling([1.0, 2.0, 0.5], offset=1.0)(IMAGES).numpy(),
                               IMAGES * np.array([1.0, 2.0, 0.5]) + 1.0, rtol=1e-6)
    norm = layers.Normalization()
    norm.adapt(IMAGES)
    mean, variance = IMAGES.mean(axis=(0, 1, 2)), IMAGES.var(axis=(0, 1, 2))
    np.testing.assert_allclose(norm.get_weights()[0], mean, rtol=1e-5)
    np.testing.assert_allclose(norm.get_weights()[1], variance, rtol=1e-5)
    np.testing.assert_allclose(norm(IMAGES).numpy(), (IMAGES - mean) / np.sqrt(variance), rtol=1e-4, atol=1e-5)
    whole = layers.Normalization(axis=None)
    whole.adapt([(IMAGES[:1], 0), (IMAGES[1:], 0)])  # batches of (x, y), as a dataset yields
    np.testing.assert_allclose(whole(IMAGES).numpy(), (IMAGES - IMAGES.mean()) / IMAGES.std(), rtol=1e-4, atol=1e-5)
    pipeline = data.Pipeline(IMAGES, batch_size=3)
    per_row = layers.Normalization(axis=(1, -1))
    per_row.adapt(pipeline)
    np.testing.assert_allclose(per_row.get_weights()[0], IMAGES.mean(axis=(0, 2)), rtol=1e-5)
    given = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.0], invert=True)
    np.testing.assert_allclose(given(IMAGES).numpy(), IMAGES * np.array([2.0, 1.0, 1e-7]) + [1.0, 2.0, 3.0],
                               rtol=1e-5)


def test_rescaling_and_normalization_pass_gradients():
    x = dc.Tensor(IMAGES, requires_grad=True)
    (layers.Rescaling(0.5)(x) + layers.Normalization(mean=1.0, variance=4.0)(x)).sum().backward()
    np.testing.assert_allclose(x.grad, np.full(IMAGES.shape, 0.5 + 0.5))


def test_augmenting_model_trains_predicts_deterministically_and_round_trips(tmp_path):
    dc.utils.set_random_seed(0)
    model = dc.Sequential([
        dc.Input((6, 6, 3)), layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1),
        layers.RandomZoom(0.1), layers.RandomCrop(5, 5), layers.RandomContrast(0.2), layers.RandomBrightness(0.1),
        layers.RandomRotation(0.05), layers.Rescaling(1 / 255), layers.Normalization(mean=0.5, variance=0.1),
        layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(IMAGES, np.array([0, 1, 0, 1]), epochs=1, batch_size=2, verbose=0)
    assert not np.allclose(model(IMAGES, training=True).numpy(), model(IMAGES, training=True).numpy())
    prediction = model.predict(IMAGES, verbose=0)
    np.testing.assert_array_equal(model.predict(IMAGES, verbose=0), prediction)
    model.save(tmp_path / "augmenting.keras")
    loaded = dc.models.load_model(tmp_path / "augmenting.keras")
    np.testing.assert_allclose(loaded.predict(IMAGES, verbose=0), prediction, rtol=1e-6)


def test_adapted_normalization_round_trips(tmp_path):
    norm = layers.Normalization()
    norm.adapt(IMAGES)
    model = dc.Sequential([dc.Input((6, 6, 3)), norm])
    model.save(tmp_path / "normalization.keras")
    np.testing.assert_allclose(dc.models.load_model(tmp_path / "normalization.keras").predict(IMAGES, verbose=0),
                               model.predict(IMAGES, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("make,message", [
    (lambda: layers.RandomFlip("sideways", name="flip"), "RandomFlip 'flip': mode must be one of"),
    (lambda: layers.RandomZoom(2.0), r"RandomZoom 'random_zoom.*': height_factor must lie in"),
    (lambda: layers.RandomFlip()(IMAGES[0]), r"expected input of rank 4 \(batch, height, width, channels\)"),
    (lambda: layers.RandomFlip()(dc.Tensor(IMAGES, requires_grad=True), training=True), "not differentiable"),
    (lambda: layers.Normalization(mean=1.0), "give both mean and variance"),
    (lambda: layers.Normalization(mean=1.0, variance=1.0).adapt(IMAGES), "they were given"),
    (lambda: layers.Normalization(axis=5)(IMAGES), "axis"),
    (lambda: layers.Normalization().adapt([]), "got no data"),
    (lambda: layers.Rescaling("half"), "scale must be a number"),
])
def test_bad_input_raises_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()
