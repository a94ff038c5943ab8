"""Independent, named random streams for one replication.

Each part of the model draws from its own stream, derived from (scenario seed, replication,
stream name), so adding a SKU or changing the after-sales desk does not shift the random
numbers the audience sees. That is what makes two candidate plans comparable with common
random numbers, and results identical whatever the number of worker processes.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    def __init__(self, seed: int, replication: int) -> None:
        self.seed = int(seed)
        self.replication = int(replication)

    def get(self, name: str, *extra: int) -> np.random.Generator:
        key = zlib.crc32(name.encode("utf-8"))
        return np.random.default_rng([self.seed, self.replication, key, *extra])
