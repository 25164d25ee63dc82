import numpy as np
import pytest

import deepcore as dc


def test_seeded_draws_repeat_and_match_numpy():
    a = dc.random.normal((3, 4), seed=5).numpy()
    b = dc.random.normal((3, 4), seed=5).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, np.random.default_rng(5).normal(0, 1, (3, 4)).astype(np.float32))
    assert dc.random.uniform((1000,), 2.0, 3.0, seed=1).numpy().min() >= 2.0
    ints = dc.random.randint((1000,), 0, 4, seed=2).numpy()
    assert set(np.unique(ints)) == {0, 1, 2, 3}
    assert np.abs(dc.random.truncated_normal((1000,), seed=3).numpy()).max() <= 2


def test_set_random_seed_controls_unseeded_draws_and_seed_generators():
    dc.utils.set_random_seed(11)
    first = [dc.random.normal((2,)).numpy(), dc.random.uniform((2,), seed=dc.random.SeedGenerator()).numpy()]
    dc.utils.set_random_seed(11)
    second = [dc.random.normal((2,)).numpy(), dc.random.uniform((2,), seed=dc.random.SeedGenerator()).numpy()]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    generator = dc.random.SeedGenerator(0)
    assert not np.array_equal(dc.random.normal((4,), seed=generator).numpy(),
                              dc.random.normal((4,), seed=generator).numpy())


def test_shuffle_is_a_permutation_and_dropout_scales():
    x = np.arange(10)
    shuffled = dc.random.shuffle(x, seed=0).numpy()
    assert sorted(shuffled) == list(range(10)) and list(shuffled) != list(range(10))
    y = dc.random.dropout(np.ones((100, 100), np.float32), 0.25, seed=4).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    np.testing.assert_array_equal(y, dc.random.dropout(np.ones((100, 100), np.float32), 0.25, seed=4).numpy())


def test_bad_seed_raises():
    with pytest.raises(TypeError, match="seed must be"):
        dc.random.normal((2,), seed="abc")
