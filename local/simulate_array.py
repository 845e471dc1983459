#!/usr/bin/env python3
"""Stage 2: simulate the smart-glasses array (pyroomacoustics) -> data/{train,dev,test,...}.

Thin wrapper around ``espnet2_jstar.data.simulate``.

Usage:
    python local/simulate_array.py --in_dir data/dry --out_dir data --nj 2 --seed 0
    python local/simulate_array.py --in_dir data/dry --out_dir data --single_channel
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bootstrap  # noqa: E402,F401

from espnet2_jstar.data.simulate import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
