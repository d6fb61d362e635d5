"""lexorder is np.lexsort, whatever the keys: packed into one int64 when they fit, else not."""
from __future__ import annotations

import numpy as np

from putuo_xl.rollup.sorting import lexorder


def test_lexorder_is_lexsort():
    rng = np.random.default_rng(2020)
    for _ in range(300):
        n = int(rng.integers(0, 400))
        keys = []
        for _k in range(int(rng.integers(1, 5))):
            kind = rng.integers(0, 5)
            if kind == 0:
                keys.append(rng.integers(0, 2, n).astype(bool))          # a flag (~L)
            elif kind == 1:
                keys.append(-rng.integers(0, 12, n))                      # negative (-M)
            elif kind == 2:
                keys.append(rng.integers(0, 5, n).astype(np.int32))       # few values: ties
            elif kind == 3:
                keys.append(rng.integers(-2**40, 2**40, n))               # too wide to pack
            else:
                keys.append(rng.random(n))                                # not integers
        assert np.array_equal(lexorder(keys), np.lexsort(keys))
