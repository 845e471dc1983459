#!/usr/bin/env python3
"""Train a JSTAR model with ESPnet's trainer.

Usage:
    python -m espnet2_jstar.bin.jstar_train --config conf/train_jstar_mini.yaml \
        --token_list data/token_list/bpe/tokens.txt --bpemodel data/token_list/bpe/bpe.model \
        --train_data_path_and_name_and_type data/train/wav.scp,speech,sound \
        --train_data_path_and_name_and_type data/train/src_text,src_text,text \
        --train_data_path_and_name_and_type data/train/text,text,text \
        --train_shape_file exp/stats/train/speech_shape ... --output_dir exp/jstar

All of ESPnet's trainer options apply (``--ngpu``, ``--multiprocessing_distributed``,
``--dist_launcher``, ``--resume``, ``--print_config``...).
"""

from __future__ import annotations

import contextlib
import sys

# ESPnet prints a flash-attention notice on stdout when this module is first imported; keep
# stdout clean for --print_config, whose output is YAML meant to be saved.
with contextlib.redirect_stdout(sys.stderr):
    import espnet.nets.pytorch_backend.transformer.attention  # noqa: F401

from espnet2_jstar.tasks.jstar import JSTARTask  # noqa: E402


def get_parser():
    return JSTARTask.get_parser()


def main(cmd=None):
    """Entry point (console script ``jstar-train``)."""
    JSTARTask.main(cmd=cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
