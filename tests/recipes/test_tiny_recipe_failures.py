"""The tiny-scale recipe when something goes wrong (CI): a failing stage, job or decoding says
which one failed and why and leaves no ``.done``; bad options are refused before any stage.
The shared run is the ``recipe`` fixture (conftest.py); each test writes its own ``--expdir``.
"""

import shutil
import subprocess

import pytest

from tiny_recipe_util import RECIPE, run

pytestmark = pytest.mark.slow


def test_failing_stage_is_named_and_leaves_no_done(recipe, tmp_path):
    tmp, _ = recipe
    p = subprocess.run(
        ["bash", str(RECIPE / "run.sh"), "--scale", "tiny", "--datadir", str(tmp / "data"),
         "--expdir", str(tmp_path / "exp"), "--stage", "4", "--stop_stage", "4",
         "--mt_config", str(tmp_path / "missing.yaml")], capture_output=True, text=True)
    assert p.returncode != 0
    assert "stage 4" in p.stderr and "failed" in p.stderr
    assert not (tmp_path / "exp" / "mt" / ".done").exists()
    # run.sh's own options reach the template (here without the test's --beam_size 1)
    options = (tmp_path / "exp" / "run_options.txt").read_text().splitlines()
    assert "beam_size=4" in options
    assert "jstar_decode_args=--asr_blank_penalty 1 --st_blank_penalty 2" in options
    assert "slow_chunk_size=8" in options and "slow_chunk_sweep=4 12 16 32" in options
    assert "st_pretrain=false" in options and "mt_extra_pairs=0" in options  # resolved (tiny)


def test_missing_st_decode_config_is_refused_before_any_stage(recipe, tmp_path):
    tmp, _ = recipe
    p = run(tmp, "--stage", "7", "--expdir", str(tmp_path / "exp"),
            "--st_decode_config", str(tmp_path / "missing.yaml"), check=False)
    assert p.returncode != 0
    assert "--st_decode_config " + str(tmp_path / "missing.yaml") + ": no such file" in p.stderr
    assert not (tmp_path / "exp" / "espnet_st").exists()


def test_st_ctc_search_without_an_st_ctc_is_refused_before_any_stage(recipe, tmp_path):
    """conf/decode_st_ctc.yaml weighs the ST CTC; a trained ESPnet ST without one (the default
    config, st_mtlalpha 0) is refused up front, even when --st_config names the CTC variant:
    the trained model's config.yaml is what stage 7 decodes with."""
    tmp, _ = recipe
    exp = tmp_path / "exp"
    (exp / "espnet_st").mkdir(parents=True)
    shutil.copy(tmp / "exp/espnet_st/config.yaml", exp / "espnet_st/config.yaml")
    p = run(tmp, "--stage", "7", "--expdir", str(exp), "--st_decode_config",
            "conf/decode_st_ctc.yaml", "--st_config", "conf/train_espnet_st_ctc_mini.yaml",
            check=False)
    assert p.returncode != 0
    assert (f"weighs an ST CTC (ctc_weight 0.5 > 0), but {exp}/espnet_st/config.yaml has none"
            in p.stderr), p.stderr[-2000:]
    assert sorted(f.name for f in exp.iterdir()) == ["espnet_st", "run_options.txt"]
    assert [f.name for f in (exp / "espnet_st").iterdir()] == ["config.yaml"]


def test_failing_decoding_fails_stage_7_and_leaves_no_done(recipe, tmp_path):
    """A decoding that exits non-zero fails stage 7; its decode directory gets no .done (the
    time-recording wrapper used to return the status of its own bookkeeping instead)."""
    tmp, _ = recipe
    exp = tmp_path / "exp"
    shutil.copytree(tmp / "exp" / "jstar", exp / "jstar", ignore=shutil.ignore_patterns("decode_*"))
    (exp / "jstar" / "config.yaml").write_text("fast_encoder: [not yaml\n")
    p = run(tmp, "--stage", "7", "--stop_stage", "7", "--expdir", str(exp), "--baselines", "",
            "--slow_chunk_sweep", "", check=False)
    assert p.returncode != 0
    assert "decoding failed" in p.stderr and "parallel job(s) failed" in p.stderr, p.stderr[-2000:]
    assert not (exp / "jstar" / "decode_test" / ".done").exists()
    assert "(failed, exit 1)" in (exp / "stage_times.txt").read_text()


def test_failing_parallel_job_fails_its_stage(recipe, tmp_path):
    """One failing job of a parallel stage fails the stage, naming the job's own error."""
    tmp, _ = recipe
    exp = tmp_path / "exp"
    p = run(tmp, "--stage", "6", "--stop_stage", "6", "--train_jobs", "2", "--expdir", str(exp),
            "--baselines", "bogus espnet_st", "--max_epoch", "1", check=False)
    assert p.returncode != 0
    assert "unknown baseline bogus" in p.stderr and "parallel job(s) failed" in p.stderr
    # the other job still ran to completion: its .done is trustworthy, the failed one has none
    assert (exp / "espnet_st" / ".done").exists() and not (exp / "bogus").exists()


def test_failing_mt_stops_before_jstar_and_waits_for_the_asr(recipe, tmp_path):
    """--asr_init (run.sh): the cascade's ASR starts while stage 4's MTs train. If an MT
    fails, JSTAR does not start, and the recipe exits only after the ASR beside it finished."""
    tmp, _ = recipe
    exp = tmp_path / "exp"
    p = run(tmp, "--stage", "4", "--stop_stage", "5", "--train_jobs", "2", "--expdir", str(exp),
            "--mt_config", str(tmp_path / "missing.yaml"), "--max_epoch", "1", check=False)
    assert p.returncode != 0
    assert "stage 5: mt failed" in p.stderr, p.stderr[-2000:]
    assert not (exp / "mt" / ".done").exists() and not (exp / "jstar").exists()
    assert (exp / "cascade_asr" / ".done").exists()
