"""Make ``espnet2_jstar`` importable when a local/ script runs from any directory.

The scripts in ``local/`` are thin wrappers; the recipe folders reach them through a
``local -> ../../../local`` symlink. If the package is not installed, the repository root
(the parent of the real ``local/`` folder) is put on ``sys.path``.

Usage:
    import _bootstrap  # noqa: F401  (first import in every local/ script)
"""

import sys
from pathlib import Path

try:
    import espnet2_jstar  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
