"""Preprocessing with input checks that name the utterance.

ESPnet's ``MutliTokenizerCommonPreprocessor`` tokenises ``text`` and ``src_text``; this
subclass first rejects inputs that would otherwise train silently on garbage: a channel count
other than the front-end's, empty targets, and silent/empty audio arrays.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from espnet2.train.preprocessor import MutliTokenizerCommonPreprocessor


class JSTARPreprocessor(MutliTokenizerCommonPreprocessor):
    """``MutliTokenizerCommonPreprocessor`` plus JSTAR input validation.

    Args:
        num_channels: Channel count the front-end expects (``None``: any).
        **kwargs: Passed to ``MutliTokenizerCommonPreprocessor``.
    """

    def __init__(self, *args, num_channels: Optional[int] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.num_channels = num_channels

    def __call__(self, uid: str, data: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        speech = data.get("speech")
        if speech is not None:
            got = 1 if speech.ndim == 1 else speech.shape[1]
            if speech.ndim > 2:
                raise ValueError(f"utterance {uid}: speech has shape {speech.shape}")
            if self.num_channels is not None and got != self.num_channels:
                raise ValueError(
                    f"utterance {uid}: audio has {got} channel(s) but the front-end "
                    f"expects {self.num_channels}"
                )
            if speech.shape[0] == 0:
                raise ValueError(f"utterance {uid}: audio is empty")
        for name in ("text", "src_text"):
            value = data.get(name)
            if isinstance(value, str) and not value.strip():
                raise ValueError(f"utterance {uid}: empty target '{name}'")
        out = super().__call__(uid, data)
        for name in ("text", "src_text"):
            if name in out and len(out[name]) == 0:
                raise ValueError(f"utterance {uid}: target '{name}' tokenises to nothing")
        return out
