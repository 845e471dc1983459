#!/usr/bin/env python3
"""Plot one conversation: spectrogram, per-channel waveforms, SELF/OTHER segments.

Thin wrapper around ``espnet2_jstar.data.plot``.

Usage:
    python local/plot_conversation.py --data_dir data/test --utt_id test_000001 \
        --out docs/img/conversation.png
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bootstrap  # noqa: E402,F401

from espnet2_jstar.data.plot import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
