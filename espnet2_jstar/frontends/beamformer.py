"""Fixed-beamformer-bank front-end: STFT → N fixed beams → per-beam log-mel → CNN fusion."""

from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np
import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend

from espnet2_jstar.data.array import MOUTH, ArrayGeometry
from espnet2_jstar.frontends.beam_design import SPEED_OF_SOUND, beam_azimuths, design_beams
from espnet2_jstar.frontends.features import (
    FramedSTFT,
    LogMel,
    mask_frames,
    num_frames,
    split_channels,
)


def load_geometry(array_json: Optional[str], mic_positions: Optional[List[List[float]]],
                  mouth_position: Optional[List[float]], reference_mic: Optional[int],
                  fs: int) -> ArrayGeometry:
    """Geometry from ``array.json``, from explicit positions, or the default 7-mic glasses."""
    if array_json is not None and mic_positions is not None:
        raise ValueError("give either array_json or mic_positions, not both")
    if array_json is not None:
        geo = ArrayGeometry.from_json(array_json)
        if mouth_position is not None or reference_mic is not None:
            raise ValueError("mouth_position/reference_mic come from array_json; "
                             "do not repeat them")
    elif mic_positions is not None:
        geo = ArrayGeometry(mic_positions=[list(map(float, p)) for p in mic_positions],
                            mouth_position=list(mouth_position or MOUTH), sample_rate=fs,
                            reference_mic=int(reference_mic or 0))
    else:
        geo = ArrayGeometry(sample_rate=fs)
        if mouth_position is not None:
            geo.mouth_position = list(map(float, mouth_position))
        if reference_mic is not None:
            geo.reference_mic = int(reference_mic)
        geo.validate()
    if geo.sample_rate != fs:
        src = array_json or "array geometry"
        raise ValueError(f"{src}: sample_rate {geo.sample_rate} != frontend fs {fs}")
    return geo


class BeamFusionCNN(torch.nn.Module):
    """Per-frame 2-D CNN over the (beam, mel) plane; no temporal context.

    The convolution weights are shared across neighbouring beams. This was the first
    design. On a CPU the whole front-end trains 13.5x slower with it than with
    :class:`BeamChannelFusion` (``benchmarks/frontend_cost.py``), because every frame is a
    separate tiny image.

    Args:
        n_beams: N.
        n_mels: M.
        channels: conv channels.
        bottleneck: channels of the 1x1 conv before flattening.
        output_size: output feature size.
    """

    def __init__(self, n_beams: int, n_mels: int, channels: int = 16, bottleneck: int = 4,
                 output_size: int = 80):
        super().__init__()
        self.convs = torch.nn.Sequential(
            torch.nn.Conv2d(1, channels, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(channels, channels, 3, stride=(1, 2), padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(channels, bottleneck, 1),
            torch.nn.ReLU(),
        )
        m2 = (n_mels - 1) // 2 + 1
        self.proj = torch.nn.Linear(bottleneck * n_beams * m2, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, T, N, M). Returns: (B, T, output_size)."""
        B, T, N, M = x.shape
        h = self.convs(x.reshape(B * T, 1, N, M))  # time folded into the batch
        return self.proj(h.reshape(B, T, -1))


class BeamChannelFusion(torch.nn.Module):
    """Per-frame 1-D CNN along mel with the beams as input channels; no temporal context.

    The first convolution mixes all N beams at every mel band, so level differences
    between the mouth beam and the room beams (the speaker cue) are one layer away.
    Two stride-2 convolutions bring M mel bands to ceil(M / 4) before the projection.

    Args:
        n_beams: N (input channels).
        n_mels: M.
        channels: conv channels.
        output_size: output feature size.
    """

    def __init__(self, n_beams: int, n_mels: int, channels: int = 32, output_size: int = 80):
        super().__init__()
        self.convs = torch.nn.Sequential(
            torch.nn.Conv1d(n_beams, channels, 5, stride=2, padding=2),
            torch.nn.ReLU(),
            torch.nn.Conv1d(channels, channels, 3, stride=2, padding=1),
            torch.nn.ReLU(),
        )
        m4 = ((n_mels - 1) // 2) // 2 + 1
        self.proj = torch.nn.Linear(channels * m4, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, T, N, M). Returns: (B, T, output_size)."""
        B, T, N, M = x.shape
        h = self.convs(x.reshape(B * T, N, M))  # time folded into the batch
        return self.proj(h.reshape(B, T, -1))


class BeamformerFrontend(AbsFrontend):
    """Multichannel front-end: a bank of fixed beams, log-mel per beam, CNN fusion.

    Beam 0 is steered at the wearer's mouth (near field, spherical wavefront); beams
    1..N-1 at azimuths ``360 k / (N-1)`` degrees (far field, at ``elevation_deg``).
    The beam weights are designed once from the geometry and kept as (real, imag) buffers
    ``weight_real``/``weight_imag`` of shape (N, F, C): saved in the checkpoint, never trained.
    Every frame depends only on its own ``win_length`` samples (CONTRACTS.md §2).

    Args:
        array_json: path to ``array.json``; ``None`` = default 7-mic glasses geometry.
        n_beams: N, number of beams (>= 1).
        fs: sample rate (Hz); must equal the geometry's.
        n_fft: FFT size (>= win_length).
        win_length: window length in samples.
        hop_length: frame shift in samples.
        n_mels: mel bands per beam.
        beam_type: ``"superdirective"`` (MVDR vs spherically isotropic noise),
            ``"mvdr_diffuse"`` (MVDR vs horizontally isotropic noise) or ``"delay_and_sum"``.
        diagonal_loading: μ added to the unit-diagonal noise coherence (regularisation).
        fusion_type: ``"beam_channels"`` (:class:`BeamChannelFusion`, the default) or
            ``"beam_plane"`` (:class:`BeamFusionCNN`, the first, slower design).
        cnn_channels: fusion CNN conv channels.
        cnn_bottleneck: ``beam_plane`` only: channels of the last 1x1 conv before the
            linear projection.
        mouth_skip: add the mouth beam's (beam 0) log-mel to the fusion output, with the
            fusion's last projection initialised to zero: at initialisation the front-end
            is then a log-mel front-end on the mouth beam, and the CNN learns what the
            other beams add. Needs ``output_size == n_mels``.
        output_size: output feature size F.
        elevation_deg: elevation of the far-field beams (degrees).
        fmin: lowest mel band edge (Hz).
        fmax: highest mel band edge (Hz); ``None`` = fs / 2.
        log_floor: power floor before the log.
        window: ``"hann"``, ``"hamming"`` or ``"rect"``.
        sound_speed: speed of sound (m/s).
        mic_positions: explicit (C, 3) positions instead of ``array_json``.
        mouth_position: overrides the default mouth position (not with ``array_json``).
        reference_mic: overrides the reference microphone (not with ``array_json``).
    """

    def __init__(
        self,
        array_json: Optional[str] = None,
        n_beams: int = 13,
        fs: int = 16000,
        n_fft: int = 512,
        win_length: int = 400,
        hop_length: int = 160,
        n_mels: int = 80,
        beam_type: str = "superdirective",
        diagonal_loading: float = 1e-2,
        fusion_type: str = "beam_channels",
        cnn_channels: int = 32,
        cnn_bottleneck: int = 4,
        mouth_skip: bool = False,
        output_size: int = 80,
        elevation_deg: float = 0.0,
        fmin: float = 0.0,
        fmax: Optional[float] = None,
        log_floor: float = 1e-10,
        window: str = "hann",
        sound_speed: float = SPEED_OF_SOUND,
        mic_positions: Optional[List[List[float]]] = None,
        mouth_position: Optional[List[float]] = None,
        reference_mic: Optional[int] = None,
    ):
        super().__init__()
        self.geometry = load_geometry(array_json, mic_positions, mouth_position,
                                      reference_mic, int(fs))
        self.fs = int(fs)
        self.n_beams = int(n_beams)
        self.beam_type = beam_type
        self.num_channels = self.geometry.num_channels
        self.beam_azimuths = beam_azimuths(self.n_beams)
        self.stft = FramedSTFT(n_fft, win_length, hop_length, window)
        self.logmel = LogMel(fs, n_fft, n_mels, fmin, fmax, log_floor)
        self.hop_length = self.stft.hop_length
        self.win_length = self.stft.win_length
        self.n_mels = int(n_mels)

        w, _, _ = design_beams(self.geometry, self.n_beams, self.fs, int(n_fft), beam_type,
                               float(diagonal_loading), float(elevation_deg), float(sound_speed))
        self.register_buffer("weight_real", torch.from_numpy(np.ascontiguousarray(w.real)).float())
        self.register_buffer("weight_imag", torch.from_numpy(np.ascontiguousarray(w.imag)).float())
        if fusion_type == "beam_channels":
            self.fusion = BeamChannelFusion(self.n_beams, self.n_mels, int(cnn_channels),
                                            int(output_size))
        elif fusion_type == "beam_plane":
            self.fusion = BeamFusionCNN(self.n_beams, self.n_mels, int(cnn_channels),
                                        int(cnn_bottleneck), int(output_size))
        else:
            raise ValueError(f"fusion_type must be 'beam_channels' or 'beam_plane', "
                             f"got {fusion_type!r}")
        self.mouth_skip = bool(mouth_skip)
        if self.mouth_skip:
            if int(output_size) != self.n_mels:
                raise ValueError(f"mouth_skip needs output_size == n_mels, got output_size "
                                 f"{output_size} and n_mels {n_mels}")
            torch.nn.init.zeros_(self.fusion.proj.weight)
            torch.nn.init.zeros_(self.fusion.proj.bias)
        self._output_size = int(output_size)

    def output_size(self) -> int:
        return self._output_size

    def weights(self) -> torch.Tensor:
        """(N, F, C) complex64 beam weights (``Y = w^H X``)."""
        return torch.complex(self.weight_real.float(), self.weight_imag.float())

    def beamform(self, speech: torch.Tensor) -> torch.Tensor:
        """Beam STFTs.

        Args:
            speech: (B, S, C) waveform ((B, S) allowed when the geometry has one mic).

        Returns:
            (B, T, N, n_fft // 2 + 1) complex64.
        """
        spec = self.stft(split_channels(speech, self.num_channels))  # (B, C, T, F)
        return torch.einsum("nfc,bctf->btnf", self.weights().conj(), spec)

    def beam_logmel(self, speech: torch.Tensor) -> torch.Tensor:
        """Per-beam log-mel features; (B, S, C) → (B, T, N, n_mels)."""
        y = self.beamform(speech)
        return self.logmel(y.real.square() + y.imag.square())

    def forward(
        self, speech: torch.Tensor, speech_lengths: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Beamform, take log-mel per beam and fuse with the CNN.

        Args:
            speech: (B, S, C) waveform ((B, S) allowed when the geometry has one mic).
            speech_lengths: (B,) valid sample counts; ``None`` = all S.

        Returns:
            feats: (B, T, output_size), T = (S - win_length) // hop_length + 1; frames past
                an utterance's length are zero.
            feats_lengths: (B,) int64 frame counts.
        """
        if speech_lengths is None:
            speech_lengths = torch.full((speech.shape[0],), speech.shape[1], dtype=torch.long)
        feats_lengths = num_frames(speech_lengths, self.win_length, self.hop_length)
        logmel = self.beam_logmel(speech)  # (B, T, N, M)
        p = self.fusion.proj.weight
        logmel = logmel.to(device=p.device, dtype=p.dtype)
        feats = self.fusion(logmel)
        if self.mouth_skip:
            feats = feats + logmel[:, :, 0]
        return mask_frames(feats, feats_lengths), feats_lengths.to(speech.device)
