"""Shared pytest set-up: keep ESPnet's nltk download attempt out of test output."""

import logging
import os

os.environ.setdefault("NLTK_DATA", os.path.join(os.path.dirname(__file__), ".nltk_data"))
os.environ.setdefault("OMP_NUM_THREADS", "1")
logging.getLogger("nltk").setLevel(logging.ERROR)

try:  # ESPnet calls nltk.download at import time; make it a quiet no-op here (no network).
    import nltk

    nltk.download = lambda *a, **k: True
except ImportError:  # pragma: no cover
    pass
