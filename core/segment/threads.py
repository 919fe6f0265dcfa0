"""The engine's own pool of threads for the random starts of k-means: how many
(``COMMUNITY_SAFETY_THREADS``, the cores, the BLAS limit), and the batches run on it with
the BLAS held to one thread per call.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from ..errors import InputError

THREADS_VARIABLE = "COMMUNITY_SAFETY_THREADS"


def pool_size() -> int:
    """Threads of the engine's own pool for the random starts: the machine's cores, at most
    the number in the environment variable ``COMMUNITY_SAFETY_THREADS`` when it is set, and
    at most the BLAS's own thread limit, so that ``threadpoolctl.threadpool_limits(1)`` (or
    ``OPENBLAS_NUM_THREADS=1``) holds the whole fit to one core on a shared server. The
    labels do not depend on it (see ``_in_parallel``)."""
    workers = os.cpu_count() or 1
    wanted = os.environ.get(THREADS_VARIABLE, "").strip()
    if wanted:
        try:
            workers = min(workers, int(wanted))
        except ValueError:
            workers = 0
        if workers < 1:
            raise InputError(f"{THREADS_VARIABLE} = {wanted!r}: give a whole number of "
                             "threads, 1 or more")
    from threadpoolctl import threadpool_info  # installed with scikit-learn

    limits = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(1, min([workers] + limits))


def _in_parallel(work, items, workers: int):
    """(item, work(item)) in the items' order, the work done by ``workers`` threads at once
    (numpy releases the GIL for array operations). The BLAS runs one thread per call
    whatever the number of workers, also with one worker: a product's rounding can depend
    on how the BLAS splits it between its threads, and the starts' single-precision labels
    must not. Each item is computed on its own, so the results do not depend on the
    workers. Stopping the iteration (a cancel) leaves the items not started undone."""
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    with threadpool_limits(1, user_api="blas"):
        if min(workers, len(items)) < 2:
            for item in items:
                yield item, work(item)
            return
        with ThreadPoolExecutor(min(workers, len(items))) as pool:
            futures = [pool.submit(work, item) for item in items]
            try:
                for item, future in zip(items, futures):
                    yield item, future.result()
            finally:
                for future in futures:
                    future.cancel()
