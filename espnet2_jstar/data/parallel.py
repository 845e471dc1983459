"""Ordered parallel map with a tqdm progress bar (multiprocessing, fork).

Usage:
    python -c "from espnet2_jstar.data.parallel import run_jobs; print(run_jobs(abs, [-1, -2], 2))"
"""

from __future__ import annotations

import multiprocessing as mp
import os
from typing import Callable, List, Sequence

from tqdm import tqdm


def _worker_init() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"


def run_jobs(fn: Callable, jobs: Sequence, nj: int = 1, desc: str = "", chunksize: int = 2
             ) -> List:
    """Map ``fn`` over ``jobs`` with ``nj`` processes; results keep the jobs' order.

    Each job must carry its own seed: results then do not depend on ``nj``.
    """
    jobs = list(jobs)
    if nj <= 1 or len(jobs) <= 1:
        return [fn(j) for j in tqdm(jobs, desc=desc, unit="utt", mininterval=2.0)]
    ctx = mp.get_context("fork")
    with ctx.Pool(min(nj, len(jobs)), initializer=_worker_init) as pool:
        it = pool.imap(fn, jobs, chunksize=chunksize)
        return list(tqdm(it, total=len(jobs), desc=desc, unit="utt", mininterval=2.0))
