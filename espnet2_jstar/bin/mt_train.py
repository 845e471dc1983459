#!/usr/bin/env python3
"""Pre-train JSTAR's slow encoder and ST head as a transducer MT model (ESPnet trainer).

Usage:
    # 1. shapes (ESPnet's collect_stats stage; text only, no feature statistics)
    python -m espnet2_jstar.bin.mt_train --collect_stats true \
        --config conf/tuning/train_mt_mini.yaml \
        --token_list data/token_list/bpe/tokens.txt --bpemodel data/token_list/bpe/bpe.model \
        --train_data_path_and_name_and_type data/train/src_text,src_text,text \
        --train_data_path_and_name_and_type data/train/text,text,text \
        --valid_data_path_and_name_and_type data/dev/src_text,src_text,text \
        --valid_data_path_and_name_and_type data/dev/text,text,text \
        --output_dir exp/mt_stats
    # 2. training
    python -m espnet2_jstar.bin.mt_train --config conf/tuning/train_mt_mini.yaml \
        --token_list ... --bpemodel ... (same data options) \
        --train_shape_file exp/mt_stats/train/src_text_shape \
        --train_shape_file exp/mt_stats/train/text_shape \
        --valid_shape_file exp/mt_stats/valid/src_text_shape \
        --valid_shape_file exp/mt_stats/valid/text_shape \
        --fold_length 150 --fold_length 150 --output_dir exp/mt
    # 3. JSTAR from it
    python -m espnet2_jstar.bin.jstar_train ... --mt_init exp/mt/valid.loss.ave.pth

All of ESPnet's trainer options apply (``--ngpu``, ``--multiprocessing_distributed``,
``--dist_launcher``, ``--resume``, ``--print_config``...). Console script: ``jstar-mt-train``.
"""

from __future__ import annotations

import sys

from espnet2_jstar.tasks.mt import MTTask


def get_parser():
    """ESPnet's parser with the MT task's options."""
    return MTTask.get_parser()


def main(cmd=None):
    """Entry point (console script ``jstar-mt-train``)."""
    MTTask.main(cmd=cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
