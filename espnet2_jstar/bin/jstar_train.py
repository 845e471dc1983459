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

import sys

from espnet2_jstar.tasks.jstar import JSTARTask


def get_parser():
    return JSTARTask.get_parser()


def main(cmd=None):
    """Entry point (console script ``jstar-train``)."""
    JSTARTask.main(cmd=cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
