"""Results kept in memory while the program runs: the same inputs give back the same result
without working it out again (a report written again in the same QGIS session, after one
table changed, draws only the charts whose data changed)."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd


def digest(*parts) -> str:
    """A fingerprint of ``parts``: tables by their labels and values, other values by
    their ``repr`` (dicts in key order)."""
    hashed = hashlib.sha1()
    for part in parts:
        if isinstance(part, (pd.DataFrame, pd.Series)):
            part = _geometry_as_bytes(part)
            labels = list(part.columns) if isinstance(part, pd.DataFrame) else [part.name]
            hashed.update(repr((type(part).__name__, part.shape, labels)).encode())
            hashed.update(pd.util.hash_pandas_object(part, index=True).to_numpy().tobytes())
        elif isinstance(part, np.ndarray):
            hashed.update(repr((part.dtype.str, part.shape)).encode())
            hashed.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, dict):
            hashed.update(repr(sorted(part.items(), key=repr)).encode())
        else:
            hashed.update(repr(part).encode())
        hashed.update(b"|")
    return hashed.hexdigest()


def _geometry_as_bytes(table):
    """Geometry columns (shapes, whose objects pandas cannot hash) as their WKB bytes."""
    if isinstance(table, pd.Series):
        return table.to_wkb() if table.dtype.name == "geometry" else table
    shapes = [c for c in table.columns if table[c].dtype.name == "geometry"]
    if not shapes:
        return table
    return pd.DataFrame(table).assign(**{c: table[c].to_wkb() for c in shapes})


def remembered(size: int):
    """Keep the last ``size`` results of a function of data (pure: its result depends on
    its arguments alone), found again by ``digest`` of the arguments. The result is shared:
    callers read it, never change it."""
    def decorate(work):
        kept: OrderedDict = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(work)
        def again(*args):
            key = digest(*args)
            with lock:
                if key in kept:
                    kept.move_to_end(key)
                    return kept[key]
            result = work(*args)
            with lock:
                kept[key] = result
                while len(kept) > size:
                    kept.popitem(last=False)
            return result
        return again
    return decorate
