#!/usr/bin/env bash
# JSTAR on MC-FLEURS: FLEURS en_us / es_419 through the simulated glasses array.
# Usage: ./run.sh --fleurs_root /path/to/fleurs     (or --download true with a network)
#   ./run.sh --help   lists every stage's options (egs/TEMPLATE/jstar1/jstar.sh)
set -euo pipefail
cd "$(dirname "$0")"
exec ../../TEMPLATE/jstar1/jstar.sh --corpus mc_fleurs --test_sets test --vocab_size 2000 \
    --jstar_config conf/train_jstar_paper.yaml --mt_config conf/tuning/train_mt_paper.yaml "$@"
