"""Shared fixtures for the corpus tests: one tiny dry corpus and its simulation."""

import pytest

from espnet2_jstar.data.room import SceneOptions
from espnet2_jstar.data.simulate import simulate_array
from espnet2_jstar.data.synthetic import prepare_mini_bilingual

COUNTS = {"train": 3, "dev": 1, "test": 1, "test_unseen": 1}


@pytest.fixture(scope="session")
def tiny_dry(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "dry"
    prepare_mini_bilingual(out, "tiny", seed=0, nj=1, counts=COUNTS)
    return out


@pytest.fixture(scope="session")
def tiny_sim(tiny_dry):
    out = tiny_dry.parent / "data"
    simulate_array(tiny_dry, out, seed=0, nj=1, opts=SceneOptions(max_order=6))
    return out
