"""Keras' "Simple MNIST convnet" example (keras.io/examples/vision/mnist_convnet), on deepcore.

    .venv/bin/python examples/keras_style_mnist_convnet.py [--quick]

The code below is the guide's, with ``import deepcore as keras`` in place of ``import keras``
and MNIST from deepcore.datasets (the full set when its IDX files are in $DEEPCORE_DATA/mnist/,
else the bundled 4000 / 1000 real-MNIST subset, which is why the epoch count is higher).
"""
import argparse

import numpy as np

import deepcore as keras
from deepcore import layers
from deepcore.datasets import mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="1000 training images, one epoch")
args = parser.parse_args()
keras.utils.set_random_seed(0)

# Model / data parameters
num_classes = 10
input_shape = (28, 28, 1)

# Load the data and split it between train and test sets
(x_train, y_train), (x_test, y_test) = mnist.load_data()
if args.quick:
    x_train, y_train, x_test, y_test = x_train[:1000], y_train[:1000], x_test[:300], y_test[:300]

# Scale images to the [0, 1] range
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
# Make sure images have shape (28, 28, 1)
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()

batch_size = 128
epochs = 1 if args.quick else 12

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=2)

score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
