"""Single-channel log-mel filterbank front-end (the fallback when no array is available)."""

from __future__ import annotations

from typing import Optional, Tuple

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend

from espnet2_jstar.frontends.features import (
    FramedSTFT,
    LogMel,
    mask_frames,
    num_frames,
    split_channels,
)


class SingleChannelFbank(AbsFrontend):
    """Frame-local log-mel filterbank of one channel.

    Frame ``t`` depends only on samples ``[t*hop_length, t*hop_length + win_length)``, so a
    streaming caller that feeds overlapping sample buffers gets identical frames.

    Args:
        fs: sample rate (Hz).
        n_fft: FFT size (>= win_length).
        win_length: window length in samples.
        hop_length: frame shift in samples.
        n_mels: number of mel bands (= output size).
        channel: which channel of a (B, S, C) input to use.
        num_channels: expected input channel count; ``None`` accepts mono or any count.
        fmin: lowest mel band edge (Hz).
        fmax: highest mel band edge (Hz); ``None`` = fs / 2.
        log_floor: power floor before the log.
        window: ``"hann"``, ``"hamming"`` or ``"rect"``.
    """

    def __init__(
        self,
        fs: int = 16000,
        n_fft: int = 512,
        win_length: int = 400,
        hop_length: int = 160,
        n_mels: int = 80,
        channel: int = 0,
        num_channels: Optional[int] = None,
        fmin: float = 0.0,
        fmax: Optional[float] = None,
        log_floor: float = 1e-10,
        window: str = "hann",
    ):
        super().__init__()
        if num_channels is not None and not 0 <= channel < num_channels:
            raise ValueError(f"channel {channel} out of range for {num_channels} channels")
        self.fs = int(fs)
        self.channel = int(channel)
        self.num_channels = None if num_channels is None else int(num_channels)
        self.stft = FramedSTFT(n_fft, win_length, hop_length, window)
        self.logmel = LogMel(fs, n_fft, n_mels, fmin, fmax, log_floor)
        self.hop_length = self.stft.hop_length
        self.win_length = self.stft.win_length
        self.n_mels = int(n_mels)

    def output_size(self) -> int:
        return self.n_mels

    def forward(
        self, speech: torch.Tensor, speech_lengths: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Compute log-mel features.

        Args:
            speech: (B, S) mono or (B, S, C) multichannel waveform.
            speech_lengths: (B,) valid sample counts; ``None`` = all S.

        Returns:
            feats: (B, T, n_mels), T = (S - win_length) // hop_length + 1; frames past an
                utterance's length are zero.
            feats_lengths: (B,) int64 frame counts.
        """
        x = split_channels(speech, self.num_channels)  # (B, C, S)
        if not 0 <= self.channel < x.shape[1]:
            raise ValueError(f"channel {self.channel} requested but input has "
                             f"{x.shape[1]} channel(s)")
        x = x[:, self.channel]  # (B, S)
        if speech_lengths is None:
            speech_lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long)
        feats_lengths = num_frames(speech_lengths, self.win_length, self.hop_length)
        spec = self.stft(x)  # (B, T, F)
        feats = self.logmel(spec.real.square() + spec.imag.square())  # (B, T, M)
        return mask_frames(feats, feats_lengths), feats_lengths.to(speech.device)
