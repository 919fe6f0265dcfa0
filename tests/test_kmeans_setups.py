"""The same labels for the same inputs and seed in every setup a user may run the engine
in: one or several workers of the engine's own pool, a BLAS with one or two threads, and
another BLAS kernel (``OPENBLAS_CORETYPE``); with one random start, many, and for
sub-segments. Each setup is a fresh process with its environment variables set, on the
real Camden sample matrix (749 output areas, the sample project's variables as it
standardises and winsorises them), and on a larger matrix made of it (60 copies of
Camden's areas, each moved by a little noise: 44,940 areas, enough for the large-matrix
path whose starts begin on a sample; with seed 3 its group moves are kept). Also: the
engine's pool honours ``threadpoolctl.threadpool_limits`` and
``COMMUNITY_SAFETY_THREADS``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from community_safety.core.errors import InputError
from community_safety.core.segment import threads
from community_safety.core.segment.kmeans import fit_kmeans
from community_safety.core.segment.threads import pool_size

SAMPLE = Path(__file__).resolve().parent.parent / "resources" / "sample_data" / "camden"

# every case's labels, hashed, printed as JSON by a fresh process
RUN = r"""
import hashlib, json, sys
import numpy as np
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.kmeans import fit_kmeans
from community_safety.core.segment.prepare import prepare

X = prepare(load_project(sys.argv[1])).X
rng = np.random.default_rng(0)
large = np.concatenate([X + rng.normal(0, 0.05, X.shape) for _ in range(60)])

def digest(fit):
    return hashlib.sha256(fit.labels.astype(np.int64).tobytes()).hexdigest()[:16]

out = {}
for n_init in (1, 20):
    fit = fit_kmeans(X, 10, n_init=n_init, seed=2)
    out[f"camden k=10 n_init={n_init}"] = [digest(fit), fit.wcss]
    if n_init == 20:  # sub-segments: each segment split in three, as segmentation does
        for segment in range(3):
            part = fit_kmeans(X[fit.labels == segment], 3, n_init=n_init, seed=3 + segment)
            out[f"camden sub-segments of {segment}"] = [digest(part), part.wcss]
for n_init in (1, 4):
    fit = fit_kmeans(large, 12, n_init=n_init, seed=1)
    out[f"large k=12 n_init={n_init}"] = [digest(fit), fit.wcss]
fit = fit_kmeans(large, 12, n_init=4, seed=3)  # (group moves kept after the polish)
out["large k=12 seed=3"] = [digest(fit), fit.wcss, fit.group_moves]
print(json.dumps(out))
"""


def has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def run(**env) -> dict:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("OPENBLAS", "OMP_", "MKL_", "COMMUNITY_SAFETY_T"))}
    environment.update(env)
    done = subprocess.run([sys.executable, "-c", RUN, str(SAMPLE / "camden.toml")],
                          env=environment, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


SETUPS = [
    {"COMMUNITY_SAFETY_THREADS": "1", "OPENBLAS_NUM_THREADS": "2"},  # one worker, 2-thread BLAS
    {"COMMUNITY_SAFETY_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    {"COMMUNITY_SAFETY_THREADS": "2", "OPENBLAS_NUM_THREADS": "1"},  # (BLAS limit: 1 worker)
    {"OPENBLAS_CORETYPE": "Prescott"},  # SSE3 kernels: another rounding of every product
    {"OPENBLAS_CORETYPE": "Sandybridge", "COMMUNITY_SAFETY_THREADS": "1"},
] + ([{"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "2"}] if has_avx2() else [])


@pytest.fixture(scope="module")
def reference() -> dict:
    return run(COMMUNITY_SAFETY_THREADS="2", OPENBLAS_NUM_THREADS="2")


@pytest.mark.parametrize("setup", SETUPS, ids=lambda s: ",".join(f"{k}={v}" for k, v in
                                                                  s.items()))
def test_the_same_labels_in_every_setup(reference, setup):
    assert run(**setup) == reference


def test_the_pool_honours_threadpool_limits_and_the_environment_variable(monkeypatch):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 8)
    monkeypatch.delenv("COMMUNITY_SAFETY_THREADS", raising=False)
    with threadpool_limits(1):
        assert pool_size() == 1
    with threadpool_limits(3):
        assert pool_size() == 3
    monkeypatch.setenv("COMMUNITY_SAFETY_THREADS", "1")
    with threadpool_limits(3):
        assert pool_size() == 1
    for bad in ("two", "0", "-1"):
        monkeypatch.setenv("COMMUNITY_SAFETY_THREADS", bad)
        with pytest.raises(InputError, match="COMMUNITY_SAFETY_THREADS"):
            pool_size()


def test_under_threadpool_limits_one_the_fit_runs_on_one_thread(monkeypatch):
    """The engine's own pool is not started at all: one thread does every batch."""
    started = []
    real = threads.ThreadPoolExecutor

    def recording(workers):
        started.append(workers)
        return real(workers)

    monkeypatch.setattr(threads, "ThreadPoolExecutor", recording)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    monkeypatch.delenv("COMMUNITY_SAFETY_THREADS", raising=False)
    X = np.random.default_rng(1).normal(size=(3000, 6))
    with threadpool_limits(1):
        one = fit_kmeans(X, 5, n_init=40, seed=3)
    assert started == []
    with threadpool_limits(2):
        two = fit_kmeans(X, 5, n_init=40, seed=3)
    assert started and set(started) == {2}  # (one pool per round of starts)
    assert (one.labels == two.labels).all()
