"""Microphone-array geometry shared by the corpus simulator and the beamformer front-end.

``array.json`` (one per data set) is the contract between them::

    {
      "name": "glasses7",
      "sample_rate": 16000,
      "mic_positions": [[x, y, z], ...],   # metres, array frame (C rows)
      "mouth_position": [x, y, z],         # wearer's mouth, same frame
      "reference_mic": 0,                  # channel used by single-channel set-ups
      "frame": "x forward (gaze), y left, z up; origin at the nose bridge"
    }

The number of channels C is ``len(mic_positions)``; every wav in the data set has C channels
(or 1 when the set was simulated with ``--single_channel``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Sequence

FRAME_DOC = "x forward (gaze), y left, z up; origin at the nose bridge"

# A glasses-like 7-microphone layout: two on the front corners of the frame, two above
# the lenses, two on the temples behind the hinges, one under the nose bridge.
GLASSES7 = [
    [0.010, 0.070, 0.010],
    [0.010, -0.070, 0.010],
    [0.012, 0.030, 0.022],
    [0.012, -0.030, 0.022],
    [-0.050, 0.076, 0.005],
    [-0.050, -0.076, 0.005],
    [0.015, 0.000, -0.012],
]
MOUTH = [0.075, 0.0, -0.105]


@dataclass
class ArrayGeometry:
    """Microphone positions (metres) and the wearer's mouth, in the array frame."""

    mic_positions: List[List[float]] = field(default_factory=lambda: [list(p) for p in GLASSES7])
    mouth_position: List[float] = field(default_factory=lambda: list(MOUTH))
    sample_rate: int = 16000
    reference_mic: int = 0
    name: str = "glasses7"
    frame: str = FRAME_DOC

    def __post_init__(self) -> None:
        self.validate()

    @property
    def num_channels(self) -> int:
        return len(self.mic_positions)

    def validate(self, where: str = "array geometry") -> None:
        """Raise ``ValueError`` naming ``where`` if the geometry is impossible."""
        if not self.mic_positions:
            raise ValueError(f"{where}: mic_positions is empty")
        for i, p in enumerate(list(self.mic_positions) + [self.mouth_position]):
            if len(p) != 3 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in p):
                raise ValueError(f"{where}: position {i} is not three finite numbers: {p}")
        for i in range(len(self.mic_positions)):
            for j in range(i + 1, len(self.mic_positions)):
                if math.dist(self.mic_positions[i], self.mic_positions[j]) < 1e-3:
                    raise ValueError(f"{where}: microphones {i} and {j} coincide")
        if not 0 <= self.reference_mic < len(self.mic_positions):
            raise ValueError(f"{where}: reference_mic {self.reference_mic} out of range")
        if self.sample_rate <= 0:
            raise ValueError(f"{where}: sample_rate must be positive, got {self.sample_rate}")

    def aperture(self) -> float:
        """Largest distance between two microphones (metres)."""
        ps = self.mic_positions
        return max((math.dist(a, b) for a in ps for b in ps), default=0.0)

    def to_json(self, path: str | os.PathLike) -> None:
        """Write atomically (temporary name, then rename)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, path)

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "ArrayGeometry":
        path = Path(path)
        try:
            d = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: array.json not found") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from None
        missing = [k for k in ("mic_positions", "mouth_position", "sample_rate") if k not in d]
        if missing:
            raise ValueError(f"{path}: missing keys {missing}")
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        geo = cls.__new__(cls)
        for k, f in cls.__dataclass_fields__.items():
            default = f.default_factory() if callable(f.default_factory) else f.default
            setattr(geo, k, known.get(k, default))
        geo.validate(str(path))
        return geo

    @staticmethod
    def single_channel(sample_rate: int = 16000) -> "ArrayGeometry":
        return ArrayGeometry(mic_positions=[list(GLASSES7[0])], sample_rate=sample_rate)


def direction_vector(azimuth_deg: float, elevation_deg: float = 0.0) -> Sequence[float]:
    """Unit vector in the array frame for an azimuth (0 = forward, +90 = left) and elevation."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return [math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)]
