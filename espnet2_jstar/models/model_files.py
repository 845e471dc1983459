"""Which ``.pth`` of an ESPnet experiment directory is "the model".

Kept apart from :mod:`~espnet2_jstar.models.mt_init` (which imports torch) so that light
tools, such as the recipe's decoding stamps (:mod:`~espnet2_jstar.bin.stage_stamp`), can
resolve a model directory without importing torch.
"""

from pathlib import Path
from typing import Union

# Preferred model files in an ESPnet experiment directory (first match wins).
MODEL_FILE_PATTERNS = (
    "valid.loss.ave.pth",
    "valid.loss.ave_*best.pth",
    "valid.loss.best.pth",
    "*.ave.pth",
    "*ave_*best.pth",
    "*.best.pth",
    "latest.pth",
    "*epoch.pth",
    "checkpoint.pth",
)


def find_model_file(directory: Union[str, Path]) -> Path:
    """Pick the model file of an ESPnet experiment (or unpacked) directory.

    Searches the directory, then its sub-directories, for :data:`MODEL_FILE_PATTERNS` in
    order (averaged model first, ``checkpoint.pth`` last).

    Raises:
        FileNotFoundError: No ``.pth`` file found.
    """
    directory = Path(directory)
    for pattern in MODEL_FILE_PATTERNS:
        for glob in (directory.glob(pattern), directory.rglob(pattern)):
            hits = sorted(p for p in glob if p.is_file())
            if hits:
                return hits[-1] if pattern == "*epoch.pth" else hits[0]
    raise FileNotFoundError(f"no model file (*.pth) found under {directory}")
