"""Frame-local STFT and log-mel helpers shared by the front-ends.

Everything here obeys the front-end contract (docs/CONTRACTS.md §2): frame ``t`` is computed
from samples ``[t*hop_length, t*hop_length + win_length)`` only. ``torch.stft(center=False)``
does *not* satisfy this when ``win_length < n_fft`` (its frames span ``n_fft`` samples), so the
signal is framed with ``unfold`` over ``win_length`` samples, windowed, and zero-padded to
``n_fft`` inside ``torch.fft.rfft``.
"""

from __future__ import annotations

from typing import Optional

import torch
import torchaudio


def num_frames(num_samples: torch.Tensor, win_length: int, hop_length: int) -> torch.Tensor:
    """Frame count ``(S - win_length) // hop_length + 1`` (0 when ``S < win_length``).

    Args:
        num_samples: (B,) int tensor of sample counts.
        win_length: analysis window length in samples.
        hop_length: frame shift in samples.

    Returns:
        (B,) int64 tensor of frame counts.
    """
    n = torch.div(num_samples.long() - win_length, hop_length, rounding_mode="floor") + 1
    return n.clamp(min=0)


class FramedSTFT(torch.nn.Module):
    """Frame-local short-time Fourier transform.

    Args:
        n_fft: FFT size (>= win_length); frames are zero-padded at the end to this size.
        win_length: window length in samples.
        hop_length: frame shift in samples.
        window: ``"hann"`` (periodic), ``"hamming"`` or ``"rect"``.
    """

    def __init__(self, n_fft: int = 512, win_length: int = 400, hop_length: int = 160,
                 window: str = "hann"):
        super().__init__()
        if win_length > n_fft:
            raise ValueError(f"win_length ({win_length}) must be <= n_fft ({n_fft})")
        if hop_length <= 0 or win_length <= 0:
            raise ValueError("win_length and hop_length must be positive")
        self.n_fft = int(n_fft)
        self.win_length = int(win_length)
        self.hop_length = int(hop_length)
        if window == "hann":
            win = torch.hann_window(win_length)
        elif window == "hamming":
            win = torch.hamming_window(win_length)
        elif window == "rect":
            win = torch.ones(win_length)
        else:
            raise ValueError(f"unknown window {window!r} (hann, hamming, rect)")
        # Derived from the config, so not part of the checkpoint.
        self.register_buffer("window", win, persistent=False)

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """STFT of the last axis.

        Args:
            x: (..., S) real signal.

        Returns:
            (..., T, n_fft // 2 + 1) complex64 spectrum, T = (S - win) // hop + 1.
        """
        x = x.float()
        S = x.shape[-1]
        if S < self.win_length:
            return torch.zeros(*x.shape[:-1], 0, self.n_freqs, dtype=torch.complex64,
                               device=x.device)
        frames = x.unfold(-1, self.win_length, self.hop_length)  # (..., T, win)
        return torch.fft.rfft(frames * self.window.float(), n=self.n_fft, dim=-1)


class LogMel(torch.nn.Module):
    """Power spectrum → log mel energies (librosa/Slaney mel, as ESPnet's ``LogMel``).

    Args:
        fs: sample rate (Hz).
        n_fft: FFT size.
        n_mels: number of mel bands.
        fmin: lowest band edge (Hz).
        fmax: highest band edge (Hz); ``None`` = fs / 2.
        log_floor: power floor before the natural log.
    """

    def __init__(self, fs: int = 16000, n_fft: int = 512, n_mels: int = 80, fmin: float = 0.0,
                 fmax: Optional[float] = None, log_floor: float = 1e-10):
        super().__init__()
        fmax = fs / 2 if fmax is None else float(fmax)
        if not 0 <= fmin < fmax <= fs / 2:
            raise ValueError(f"need 0 <= fmin < fmax <= fs/2, got fmin={fmin}, fmax={fmax}")
        melmat = torchaudio.functional.melscale_fbanks(
            n_fft // 2 + 1, float(fmin), fmax, int(n_mels), int(fs),
            norm="slaney", mel_scale="slaney")  # (F, M)
        self.register_buffer("melmat", melmat, persistent=False)
        self.n_mels = int(n_mels)
        self.log_floor = float(log_floor)

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        """Args: power (..., F) real. Returns: (..., n_mels) log mel energies."""
        mel = torch.matmul(power.float(), self.melmat.float())
        return torch.log(mel.clamp(min=self.log_floor))


def mask_frames(feats: torch.Tensor, feats_lengths: torch.Tensor) -> torch.Tensor:
    """Zero frames at or past each utterance's frame count (ESPnet convention).

    Args:
        feats: (B, T, ...) features.
        feats_lengths: (B,) valid frame counts.

    Returns:
        (B, T, ...) features with padded frames set to 0.
    """
    T = feats.shape[1]
    valid = torch.arange(T, device=feats.device)[None, :] < feats_lengths.to(feats.device)[:, None]
    return feats * valid.view(*valid.shape, *([1] * (feats.dim() - 2))).to(feats.dtype)


def split_channels(speech: torch.Tensor, num_channels: Optional[int]) -> torch.Tensor:
    """Check the channel count and return channels first.

    Args:
        speech: (B, S) mono or (B, S, C) multichannel.
        num_channels: expected channel count, ``None`` = any.

    Returns:
        (B, C, S) tensor.

    Raises:
        ValueError: if the input has the wrong rank or channel count.
    """
    if speech.dim() == 2:
        speech = speech.unsqueeze(-1)
    elif speech.dim() != 3:
        raise ValueError(f"speech must be (B, S) or (B, S, C), got shape {tuple(speech.shape)}")
    got = speech.shape[-1]
    if num_channels is not None and got != num_channels:
        raise ValueError(f"expected {num_channels} channels, got {got} "
                         f"(input shape {tuple(speech.shape)})")
    return speech.transpose(1, 2)
