#!/usr/bin/env python3
"""Repair an ESPnet training directory that was killed mid-write, before it is resumed.

Usage:
    python -m espnet2_jstar.bin.repair_checkpoint exp/jstar     # before `--resume true`

ESPnet's ``Trainer`` ends each epoch with ``torch.save`` of ``checkpoint.pth`` and then of
``{N}epoch.pth``, both in place. A kill during either write leaves a truncated file, and the
resumed run fails on it: in ``Trainer.resume`` (checkpoint) or, epochs later, in
``average_nbest_models`` (epoch file). ESPnet has no repair step, hence this one:

* ``{N}epoch.pth`` unreadable and N is the checkpoint's epoch (the kill hit the second write):
  rewritten from the checkpoint's model state, which is that epoch's model;
* ``checkpoint.pth`` unreadable (the kill hit the first write): removed, so training restarts
  from epoch 1 (the epoch files of that run are overwritten as it goes);
* any other unreadable ``{N}epoch.pth``: removed.

Every file is written under a temporary name and renamed. Each action is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import List, Optional

import torch


def _load(path: Path):
    """``torch.load`` of ``path``, or None if it cannot be read.

    Memory-mapped first, so that checking a directory of large epoch files reads their
    headers, not every tensor; a file that fails so (truncated, or not in torch's zip format)
    gets a plain load, which alone decides.
    """
    for mmap in (True, False):
        try:
            return torch.load(path, map_location="cpu", weights_only=False, mmap=mmap)
        except Exception:  # truncated zip, empty file, ...: all mean "not usable"
            continue
    return None


def repair(output_dir: Path) -> List[str]:
    """Repair ``output_dir`` in place; returns one line per action taken."""
    actions: List[str] = []
    ckpt_path = output_dir / "checkpoint.pth"
    ckpt = _load(ckpt_path) if ckpt_path.exists() else None
    ckpt_epoch: Optional[int] = None
    if ckpt_path.exists() and ckpt is None:
        ckpt_path.unlink()
        actions.append(f"{ckpt_path}: unreadable (interrupted write), removed; training "
                       "restarts from epoch 1")
    elif ckpt is not None:
        ckpt_epoch = int(ckpt["reporter"]["epoch"])
    for path in sorted(output_dir.glob("*epoch.pth")):
        m = re.fullmatch(r"(\d+)epoch\.pth", path.name)
        if m is None or path.is_symlink() or _load(path) is not None:
            continue
        if ckpt is not None and int(m.group(1)) == ckpt_epoch:
            tmp = path.with_name(path.name + ".tmp")
            torch.save(ckpt["model"], tmp)
            os.replace(tmp, path)
            actions.append(f"{path}: unreadable (interrupted write), rewritten from "
                           f"{ckpt_path.name} (epoch {ckpt_epoch})")
        else:
            path.unlink()
            actions.append(f"{path}: unreadable (interrupted write), removed")
    return actions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", type=Path, help="ESPnet training output directory")
    args = parser.parse_args(argv)
    if not args.output_dir.is_dir():
        return 0  # nothing trained yet
    for line in repair(args.output_dir):
        print(f"repair_checkpoint: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
