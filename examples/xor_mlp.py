"""XOR, the slides' first network: a 2-4-1 MLP (tanh hidden layer, sigmoid output).

    .venv/bin/python examples/xor_mlp.py [--quick]

No linear model separates XOR; one hidden layer does. Prints the learned truth table.
"""
import argparse

import numpy as np

import deepcore as keras
from deepcore.utils import set_random_seed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    args = parser.parse_args()
    set_random_seed(0)

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)

    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(4, activation="tanh"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    epochs = 150 if args.quick else 500
    model.fit(x, y, batch_size=4, epochs=epochs, verbose=0)

    predictions = model.predict(x, verbose=0)[:, 0]
    print(" x1  x2 | target  output")
    for (a, b), target, p in zip(x.astype(int), y[:, 0].astype(int), predictions):
        print(f"  {a}   {b} |   {target}     {p:.3f}")
    correct = int(((predictions > 0.5) == y[:, 0]).sum())
    print(f"XOR truth table: {correct}/4 correct after {epochs} epochs")


if __name__ == "__main__":
    main()
