#!/usr/bin/env python3
"""Check that the installed stack is the pinned one and that only one torch is installed.

Usage:
    .venv/bin/python scripts/check_stack.py
"""

import sys
from importlib import metadata

PINS = {"torch": "2.9.1", "torchaudio": "2.9.1", "espnet": "202511", "sentencepiece": "0.2.0"}
# the project and what scripts/setup.sh installs with it (its [test] extra included)
PRESENT = ["sacrebleu", "kaldiio", "pyroomacoustics", "espnet2_jstar", "pytest", "pytest-xdist",
           "simuleval"]


def problems():
    out = []
    for name, want in PINS.items():
        try:
            got = metadata.version(name)
        except metadata.PackageNotFoundError:
            out.append(f"{name} is not installed (want {want})")
            continue
        if got.split("+")[0] != want:
            out.append(f"{name} {got} installed, {want} pinned")
    for name in PRESENT:
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            out.append(f"{name} is not installed")
    torches = sorted({d.metadata["Name"] for d in metadata.distributions()
                      if (d.metadata["Name"] or "").lower() in ("torch", "pytorch", "torch-cpu")})
    if len(torches) > 1:
        out.append(f"more than one torch distribution: {torches}")
    return out


if __name__ == "__main__":
    p = problems()
    for line in p:
        print("stack:", line, file=sys.stderr)
    if not p:
        print("stack OK: " + ", ".join(f"{k} {metadata.version(k)}" for k in PINS))
    sys.exit(1 if p else 0)
