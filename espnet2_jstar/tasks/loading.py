"""Strict model loading shared by the JSTAR and MT tasks.

ESPnet's ``AbsTask.build_model_from_file`` loads state dicts non-strictly, so a config change
would silently decode with random weights; here every key must match.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional, Union

import yaml


def build_model_strict(task_cls, config_file: Optional[Union[Path, str]] = None,
                       model_file: Optional[Union[Path, str]] = None, device: str = "cpu"):
    """Build ``task_cls``'s model from ``config.yaml`` and load ``model_file`` strictly.

    Args:
        task_cls: An ESPnet task class (``build_model(args)``).
        config_file: ``config.yaml`` written by training (default: next to the model).
        model_file: ``.pth`` state dict, an experiment dir, or a packed model.
        device: "cpu", "cuda" or "cuda:N".

    Returns:
        (model, args)
    """
    from espnet2_jstar.models.mt_init import find_model_file, load_mt_state_dict

    if model_file is not None and Path(model_file).is_dir():
        model_file = find_model_file(model_file)
    if config_file is None:
        if model_file is None:
            raise ValueError("give config_file or model_file")
        config_file = Path(model_file).parent / "config.yaml"
    with open(config_file, encoding="utf-8") as f:
        args = argparse.Namespace(**yaml.safe_load(f))
    model = task_cls.build_model(args)
    if model_file is not None:
        state = load_mt_state_dict(model_file)
        result = model.load_state_dict(state, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise RuntimeError(
                f"{model_file} does not match {config_file}: missing "
                f"{result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}"
            )
    model.to(device)
    return model, args
