#!/usr/bin/env python3
"""Stage 1 (mc_fleurs): FLEURS en_us + es_419 paired by FLORES id -> dry material.

Thin wrapper around ``espnet2_jstar.data.fleurs``.

Usage:
    python local/prepare_fleurs.py --fleurs_root /path/to/fleurs --out_dir data/dry --seed 0
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bootstrap  # noqa: E402,F401

from espnet2_jstar.data.fleurs import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
