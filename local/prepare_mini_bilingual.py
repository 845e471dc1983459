#!/usr/bin/env python3
"""Stage 1 (mini_bilingual): synthetic en-es conversations (grammar + TTS) -> dry material.

Thin wrapper around ``espnet2_jstar.data.synthetic``.

Usage:
    python local/prepare_mini_bilingual.py --scale tiny --out_dir data/dry --nj 2 --seed 0
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bootstrap  # noqa: E402,F401

from espnet2_jstar.data.synthetic import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
