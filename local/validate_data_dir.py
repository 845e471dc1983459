#!/usr/bin/env python3
"""Validate a data directory against DESIGN section 3; exit 1 naming file, utterance and problem.

Thin wrapper around ``espnet2_jstar.data.validate``.

Usage:
    python local/validate_data_dir.py data/train --channels 7 --sample_rate 16000
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bootstrap  # noqa: E402,F401

from espnet2_jstar.data.validate import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
