"""Shared by the tiny-recipe tests: how they call ``run.sh`` and read what it recorded."""

import subprocess
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[2] / "egs" / "mini_bilingual" / "jstar1"
# the shared run's decoding options (conftest.py): a re-run of stage 7 over its decodings
# passes them too, or it redoes those decodings with run.sh's own (each decoding's .done
# records its command: espnet2_jstar.bin.stage_stamp)
DECODE_ARGS = ("--jstar_decode_args", "--st_blank_penalty 0.5",
               "--cascade_decode_args", "--asr_blank_penalty 0.5 --mt_blank_penalty 0.5")


def run(tmp, *args, check=True, **kw):
    # one test set and greedy search keep CI short: an untrained transducer makes ESPnet's
    # beam search expand many hypotheses per frame (beam 4: 47 s of compute for the 54 s of
    # the tiny test set, greedy: 4 s); the beam search has its own tests (tests/decoding)
    cmd = ["bash", str(RECIPE / "run.sh"), "--scale", "tiny", "--max_epoch", "2",
           "--ablations", "", "--slow_chunk_sweep", "16", "--test_sets", "test",
           "--beam_size", "1", "--datadir", str(tmp / "data"),
           "--expdir", str(tmp / "exp"), "--results", str(tmp / "RESULTS.md"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=check, **kw)


def decode_commands(exp):
    """The transducer decodings recorded in ``exp/commands.txt`` (JSTAR, MT alone, cascade)."""
    modules = ("jstar_inference", "mt_inference", "cascade_inference")
    return [c for c in (exp / "commands.txt").read_text().splitlines()
            if any(f".{m} " in c for m in modules)]
