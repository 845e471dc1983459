#!/usr/bin/env bash
# JSTAR on the synthetic bilingual smart-glasses corpus (the embedded default).
# Usage: ./run.sh [--scale tiny|mini|medium|large] [--stage N] [--stop_stage N] [--ngpu N] [--nj N]
#   ./run.sh --help   lists every stage's options (egs/TEMPLATE/jstar1/jstar.sh)
set -euo pipefail
cd "$(dirname "$0")"
exec ../../TEMPLATE/jstar1/jstar.sh --corpus mini_bilingual --scale mini \
    --slow_chunk_sweep "8 32" "$@"
