#!/usr/bin/env python3
"""Check, before any training, that an ESPnet ST decoding config fits the ST model it will decode.

Usage:
    python -m espnet2_jstar.bin.check_st_decode_config \\
        --decode_config conf/decode_st_ctc.yaml --train_config exp/espnet_st/config.yaml

Exit status 0: they fit. Exit status 1: they do not; the reason, naming both files, goes to
stderr. Exit status 2: a file is missing or is not a YAML mapping.

Written here because ESPnet has no such check: ``espnet2.bin.st_inference`` with
``--ctc_weight > 0`` only asserts that the model has an ``st_ctc`` when it builds the search,
that is after the model has been trained. ``espnet2.st.espnet_model.ESPnetSTModel`` builds
its ST CTC only when ``model_conf.st_mtlalpha > 0``, so the training config (the resolved
``config.yaml`` of a trained model, or the one about to be trained) is enough to know.
"""

import argparse
import sys
from pathlib import Path
from typing import Optional

import yaml


class ConfigError(ValueError):
    """A config file is missing, unreadable, or not a YAML mapping."""


def load_mapping(path: Path) -> dict:
    """Read a YAML config that must be a mapping; an empty file is an empty mapping.

    Raises:
        ConfigError: naming the file, when it is missing, is not valid YAML, or holds
            something other than a mapping.
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror or e})") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: is not valid YAML ({e})") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a YAML mapping was expected, got {type(data).__name__}")
    return data


def st_ctc_mismatch(
    decode_conf: dict,
    train_conf: dict,
    decode_name: str = "the decoding config",
    train_name: str = "the model",
) -> Optional[str]:
    """Why a decoding config cannot decode a model, or None when it can.

    Args:
        decode_conf: ``st_inference`` options (``ctc_weight`` is the ST CTC's weight).
        train_conf: ``st_train`` options (``model_conf.st_mtlalpha`` > 0 builds an ST CTC).
        decode_name: what the message calls the decoding config (its file name).
        train_name: what the message calls the training config (its file name).

    Returns:
        None when the search weighs no ST CTC or the model has one; otherwise the reason.
    """
    ctc_weight = float(decode_conf.get("ctc_weight", 0) or 0)
    mtlalpha = float((train_conf.get("model_conf") or {}).get("st_mtlalpha", 0) or 0)
    if ctc_weight > 0 and mtlalpha <= 0:
        return (
            f"{decode_name} weighs an ST CTC (ctc_weight {ctc_weight:g} > 0), "
            f"but {train_name} has none (st_mtlalpha {mtlalpha:g})"
        )
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decode_config", type=Path, required=True,
                        help="st_inference config (YAML)")
    parser.add_argument("--train_config", type=Path, required=True,
                        help="st_train config, or a trained model's config.yaml")
    args = parser.parse_args(argv)
    try:
        decode_conf = load_mapping(args.decode_config)
        train_conf = load_mapping(args.train_config)
    except ConfigError as e:
        print(f"check_st_decode_config: {e}", file=sys.stderr)
        return 2
    reason = st_ctc_mismatch(decode_conf, train_conf, str(args.decode_config),
                             str(args.train_config))
    if reason is None:
        return 0
    print(f"{reason}: decode with conf/decode_st.yaml, or train with "
          "conf/train_espnet_st_ctc_mini.yaml", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
