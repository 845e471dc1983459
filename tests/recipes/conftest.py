"""The tiny-scale recipe run that tests/recipes/test_tiny_recipe*.py check: one run per test
session, shared by both modules (it takes most of the slow tests' time)."""

import os
import time

import pytest

from tiny_recipe_util import DECODE_ARGS, run


@pytest.fixture(scope="session")
def recipe(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny")
    t0 = time.time()
    # two trainings at a time (stages 5-6) and two decodings at a time (--nj, stage 7)
    # without OMP_NUM_THREADS, so that the template sets each training's thread count itself;
    # ESPnet ST pre-trained (--st_pretrain true, not run.sh's default) so that one run covers
    # that path too (test_failing_parallel_job_fails_its_stage trains the default one)
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    p = run(tmp, "--train_jobs", "2", "--nj", "2", *DECODE_ARGS, "--st_pretrain", "true",
            check=False, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    print(f"tiny recipe: {time.time() - t0:.0f} s")
    return tmp, p
