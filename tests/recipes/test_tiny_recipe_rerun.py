"""The tiny-scale recipe run again (CI): finished stages are skipped, a killed training resumes
from its checkpoint, and a decoding is redone when its options or inputs changed, alone.
The shared run is the ``recipe`` fixture (conftest.py).
"""

import os
import shutil
import signal
import subprocess
import time

import pytest
import torch

from espnet2_jstar.bin.make_results import parse_results_table
from tiny_recipe_util import DECODE_ARGS, RECIPE, decode_commands, run

pytestmark = pytest.mark.slow


def test_rerun_skips_finished_stages(recipe):
    tmp, _ = recipe
    t0 = time.time()
    decodes = len(decode_commands(tmp / "exp"))
    p = run(tmp, "--stop_stage", "7", *DECODE_ARGS, "--max_epoch", "3", "--single_channel", "true")
    assert "exp/jstar is complete (.done): skipped" in p.stderr
    # a training is kept whatever the options, but one trained otherwise is named
    assert (f"WARNING: {tmp}/exp/mt kept as it is: changed since: --max_epoch: 2 -> 3 "
            f"(delete {tmp}/exp/mt to redo it)") in p.stderr, p.stderr[-3000:]
    assert (f"WARNING: {tmp}/data/train kept as it is: changed since: --single_channel added "
            f"(delete {tmp}/data/train to redo it)") in p.stderr
    # stage 1 and the tokenizers were made with these options: no warning for them
    assert "data/dry kept" not in p.stderr and "bpe300 kept" not in p.stderr
    # no decoding again: each one's .done records the same command and inputs
    assert "exp/cascade/decode_test is complete (.done): skipped" in p.stderr
    assert "running it again" not in p.stderr and "stage 7: " not in p.stderr, p.stderr[-2000:]
    assert len(decode_commands(tmp / "exp")) == decodes
    assert "training espnet2" not in p.stderr and "collect stats" not in p.stderr
    assert time.time() - t0 < 120


def test_killed_training_resumes(recipe):
    tmp, _ = recipe
    exp = tmp / "exp_resume"
    args = ["bash", str(RECIPE / "run.sh"), "--scale", "tiny", "--max_epoch", "3", "--bridge",
            "false", "--datadir", str(tmp / "data"), "--expdir", str(exp), "--stage", "4",
            "--stop_stage", "4", "--results", str(tmp / "R2.md")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    # checkpoint.pth is complete once the first epoch file appears (ESPnet writes it first)
    first = exp / "mt" / "1epoch.pth"
    deadline = time.time() + 300
    while not first.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert first.exists(), "no checkpoint was written"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (exp / "mt" / ".done").exists()
    # as if the kill hit the write of the checkpoint's epoch file: truncate it
    epoch = torch.load(exp / "mt" / "checkpoint.pth", weights_only=False)["reporter"]["epoch"]
    last = exp / "mt" / f"{epoch}epoch.pth"
    last.write_bytes(last.read_bytes()[:100])
    p = subprocess.run(args, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    log = (exp / "mt.train.log").read_text()
    assert "resumed" in log.lower() and (exp / "mt" / ".done").exists()
    assert f"{epoch}epoch.pth: unreadable (interrupted write), rewritten" in log


def test_changed_decoding_options_redo_that_decoding_alone(recipe, tmp_path):
    """In a copy of the experiment (other paths, same files) stage 7 redoes nothing; with
    another --slow_chunk_size it redoes JSTAR's default decoding, saying what changed, and
    keeps the sweep point, whose command is the same. Once the copy's model config is edited,
    stage 8 leaves that new decoding out of the table; the sweep point, made in the fixture's
    experiment, still verifies against the files it read there."""
    tmp, _ = recipe
    exp = tmp_path / "exp"
    for d in ("jstar", "cascade"):
        shutil.copytree(tmp / "exp" / d, exp / d, symlinks=True)
    args = ["--stage", "7", "--stop_stage", "7", "--expdir", str(exp), "--baselines", "",
            *DECODE_ARGS]
    p = run(tmp, *args)
    for d in ("decode_test", "decode_test_slowchunk16"):
        assert f"{exp}/jstar/{d} is complete (.done): skipped" in p.stderr, p.stderr[-2000:]
    assert not (exp / "commands.txt").exists()
    before = (exp / "jstar/decode_test_slowchunk16/tokens.jsonl").read_bytes()
    p = run(tmp, *args, "--slow_chunk_size", "12")
    assert (f"{exp}/jstar/decode_test: changed since: --slow_chunk_size: 8 -> 12: running it "
            "again") in p.stderr, p.stderr[-2000:]
    assert f"{exp}/jstar/decode_test_slowchunk16 is complete (.done): skipped" in p.stderr
    decodes = decode_commands(exp)
    assert len(decodes) == 1 and "--slow_chunk_size 12 " in decodes[0], decodes
    assert (exp / "jstar/decode_test_slowchunk16/tokens.jsonl").read_bytes() == before
    assert (exp / "jstar/decode_test/.done").exists()
    with open(exp / "jstar/config.yaml", "a") as f:
        f.write("# edited after decoding\n")
    results = tmp_path / "RESULTS.md"
    p = run(tmp, "--stage", "8", "--expdir", str(exp), "--results", str(results))
    assert (f"{exp}/jstar/decode_test left out of the results: inputs changed since it was "
            f"decoded: {exp}/jstar/config.yaml") in p.stderr, p.stderr[-2000:]
    assert "decode_test_slowchunk16 left out" not in p.stderr
    systems = {r["System"] for r in parse_results_table(results)}
    assert systems == {"cascade (test)", "jstar_slowchunk16 (test)"}, systems
