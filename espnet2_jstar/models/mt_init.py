"""Initialise JSTAR's slow encoder and ST head from a transducer MT model.

The MT model (:class:`~espnet2_jstar.models.mt_model.MTTransducerModel`) names its modules
like JSTAR (``slow_encoder``, ``st_head``), so initialisation is a by-name copy of every
``slow_encoder.*`` and ``st_head.*`` tensor (parameters and buffers) whose shape matches.
A JSTAR model with a CTC bridge (``bridge: ctc_embed``, :mod:`~espnet2_jstar.models.bridge`)
also takes the MT model's ``src_embed.*`` and ``src_norm.*`` as ``bridge.src_embed.*`` and
``bridge.src_norm.*`` (:data:`ALIASES`). Everything else is reported, never silently dropped:

* ``loaded``: copied tensors;
* ``missing_in_mt``: JSTAR tensors under those prefixes that the MT model lacks (e.g. the
  ST head's CTC when only JSTAR uses one) — they keep their initial values;
* ``shape_mismatch``: present in both with different shapes (skipped);
* ``mt_only``: MT tensors with no JSTAR counterpart (the source embedding, unless there is a
  bridge, ...), ignored.

Usage:
    from espnet2_jstar.models.mt_init import init_from_mt
    report = init_from_mt(jstar_model, "exp/mt/valid.loss.ave.pth")   # or exp dir, zip

or through training: ``jstar-train ... --mt_init exp/mt/valid.loss.ave.pth``.
"""

from __future__ import annotations

import logging
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Union

import torch

from espnet2_jstar.models.model_files import MODEL_FILE_PATTERNS, find_model_file  # noqa: F401

PREFIXES = ("slow_encoder.", "st_head.", "bridge.")
# JSTAR name prefix -> MT name prefix, where they differ: the CTC bridge holds the MT model's
# source embedding and its layer norm (models/bridge.py).
ALIASES = {"bridge.": ""}


def _torch_load(path: Path) -> Mapping[str, torch.Tensor]:
    obj = torch.load(path, map_location="cpu", weights_only=False)
    return _as_state_dict(obj, str(path))


def _as_state_dict(obj, name: str) -> Dict[str, torch.Tensor]:
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, Mapping):
        raise ValueError(f"{name}: not a state dict ({type(obj).__name__})")
    if "model" in obj and isinstance(obj["model"], Mapping):  # ESPnet checkpoint.pth
        obj = obj["model"]
    elif "module" in obj and isinstance(obj["module"], Mapping):  # deepspeed
        obj = obj["module"]
    out = {}
    for k, v in obj.items():
        if not isinstance(v, torch.Tensor):
            continue
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


def load_mt_state_dict(
    source: Union[str, Path, Mapping[str, torch.Tensor], torch.nn.Module],
) -> Dict[str, torch.Tensor]:
    """Read an MT model's state dict from a ``.pth`` file, an experiment directory, a packed
    model (``.zip``/``.tar.gz`` made by ``espnet2.bin.pack``), a state dict or a module.

    Returns:
        Tensor name → tensor (CPU), ``module.`` prefixes stripped.
    """
    if not isinstance(source, (str, Path)):
        return _as_state_dict(source, "state dict")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"MT model not found: {path}")
    if path.is_dir():
        return _torch_load(find_model_file(path))
    if zipfile.is_zipfile(path) and not _is_torch_zip(path):
        with tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(path) as z:
                z.extractall(tmp)
            return _torch_load(find_model_file(tmp))
    if tarfile.is_tarfile(path):
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(path) as t:
                t.extractall(tmp, filter="data")
            return _torch_load(find_model_file(tmp))
    return _torch_load(path)


def _is_torch_zip(path: Path) -> bool:
    """torch.save writes zip archives too: they hold a ``*/data.pkl`` member."""
    with zipfile.ZipFile(path) as z:
        return any(n.endswith("data.pkl") for n in z.namelist())


def init_from_mt(
    jstar_model: torch.nn.Module,
    mt_model: Union[str, Path, Mapping[str, torch.Tensor], torch.nn.Module],
    prefixes: Sequence[str] = PREFIXES,
    strict: bool = False,
) -> Dict[str, object]:
    """Copy the MT model's ``slow_encoder.*`` / ``st_head.*`` tensors into a JSTAR model.

    Args:
        jstar_model: The JSTAR model (modified in place).
        mt_model: MT model file, experiment dir, packed model, state dict or module.
        prefixes: Name prefixes to transfer.
        strict: Raise if any JSTAR tensor under ``prefixes`` is missing or mismatched.

    Returns:
        Report dict: ``loaded`` (names), ``missing_in_mt`` (names), ``shape_mismatch``
        (list of ``(name, jstar_shape, mt_shape)``), ``mt_only`` (names), ``source`` (str),
        ``num_loaded_elements`` (int).

    Raises:
        ValueError: No parameter could be loaded (matching buffers such as BatchNorm's
            ``num_batches_tracked`` alone do not count), or, with ``strict``, anything was
            left out.
    """
    source = str(mt_model) if isinstance(mt_model, (str, Path)) else type(mt_model).__name__
    mt_sd = load_mt_state_dict(mt_model)
    target = jstar_model.state_dict()  # tensors share storage with the model's
    wanted = [k for k in target if k.startswith(tuple(prefixes))]
    loaded: List[str] = []
    missing: List[str] = []
    mismatch: List[tuple] = []
    n_elem = 0
    used = set()
    with torch.no_grad():
        for name in wanted:
            mt_name = _mt_name(name)
            if mt_name not in mt_sd:
                missing.append(name)
                continue
            used.add(mt_name)
            src, dst = mt_sd[mt_name], target[name]
            if tuple(src.shape) != tuple(dst.shape):
                mismatch.append((name, tuple(dst.shape), tuple(src.shape)))
                continue
            dst.copy_(src.to(device=dst.device, dtype=dst.dtype))
            loaded.append(name)
            n_elem += dst.numel()
    mt_only = [k for k in mt_sd if k not in used]
    report = dict(loaded=loaded, missing_in_mt=missing, shape_mismatch=mismatch,
                  mt_only=mt_only, source=source, num_loaded_elements=n_elem)
    _log_report(report, len(wanted))
    params = {n for n, _ in jstar_model.named_parameters()}
    if not any(name in params for name in loaded):  # buffers alone (step counters) don't count
        raise ValueError(
            f"init_from_mt({source}): nothing was loaded: {len(wanted)} JSTAR tensors under "
            f"{list(prefixes)}, {len(mismatch)} shape mismatches (first: "
            f"{mismatch[:3]}), {len(missing)} not in the MT model; MT keys start with "
            f"{sorted({k.split('.')[0] for k in mt_sd})}. Is this an MT model trained with "
            "the same slow_encoder/st_decoder/st_joint_network config?"
        )
    if strict and (missing or mismatch):
        raise ValueError(
            f"init_from_mt({source}, strict=True): {len(missing)} missing, "
            f"{len(mismatch)} mismatched: {missing[:5]} {mismatch[:5]}"
        )
    return report


def _mt_name(name: str) -> str:
    """The MT model's name of a JSTAR tensor (see :data:`ALIASES`)."""
    for jstar_prefix, mt_prefix in ALIASES.items():
        if name.startswith(jstar_prefix):
            return mt_prefix + name[len(jstar_prefix):]
    return name


def _log_report(report: Dict[str, object], num_wanted: int) -> None:
    loaded = report["loaded"]
    per_prefix: Dict[str, int] = {}
    for name in loaded:
        per_prefix[name.split(".")[0]] = per_prefix.get(name.split(".")[0], 0) + 1
    logging.info(
        f"init_from_mt({report['source']}): loaded {len(loaded)}/{num_wanted} tensors "
        f"({report['num_loaded_elements']} values; {per_prefix}); "
        f"{len(report['missing_in_mt'])} JSTAR tensors not in the MT model, "
        f"{len(report['shape_mismatch'])} shape mismatches skipped, "
        f"{len(report['mt_only'])} MT-only tensors ignored"
    )
    logging.debug("init_from_mt loaded: " + " ".join(loaded))
    if report["missing_in_mt"]:
        logging.warning("init_from_mt: not in the MT model (kept as initialised): "
                        + " ".join(report["missing_in_mt"]))
    for name, jshape, mshape in report["shape_mismatch"]:
        logging.warning(f"init_from_mt: shape mismatch, skipped: {name} JSTAR {list(jshape)} "
                        f"vs MT {list(mshape)}")
    if report["mt_only"]:
        logging.info("init_from_mt: MT-only tensors ignored: " + " ".join(report["mt_only"]))
