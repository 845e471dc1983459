"""Helpers shared by the front-end tests."""

import numpy as np
import pytest
import torch


def _run_chunked(frontend, speech, frames_per_chunk):
    """Run ``frontend`` on overlapping sample buffers the way a streaming caller would.

    Chunk j starts at sample ``j * K * hop`` and holds ``K * hop + win - hop`` samples, so it
    yields frames ``j*K .. j*K + K - 1``; the frames are concatenated in time.
    """
    hop, win = frontend.hop_length, frontend.win_length
    total = (speech.shape[1] - win) // hop + 1
    outs = []
    for t0 in range(0, total, frames_per_chunk):
        k = min(frames_per_chunk, total - t0)
        chunk = speech[:, t0 * hop: t0 * hop + (k - 1) * hop + win]
        feats, lens = frontend(chunk, torch.full((speech.shape[0],), chunk.shape[1]))
        assert feats.shape[1] == k and int(lens[0]) == k
        outs.append(feats)
    return torch.cat(outs, dim=1)


@pytest.fixture
def run_chunked():
    return _run_chunked


def _free_field(mics, source, num_samples, fs=16000, c=343.0, seed=0):
    """White noise from a point source at ``source`` received by ``mics`` in free field.

    Exact fractional delays and 1/r attenuation applied in the DFT domain (circular).

    Returns:
        (1, S, C) float32 tensor.
    """
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(num_samples))
    f = np.fft.rfftfreq(num_samples, 1.0 / fs)
    dist = np.linalg.norm(np.asarray(mics, float) - np.asarray(source, float)[None], axis=1)
    x = spec[None] * np.exp(-2j * np.pi * f[None] * dist[:, None] / c) / dist[:, None]
    return torch.from_numpy(np.fft.irfft(x, n=num_samples).T.copy()).float()[None]


@pytest.fixture
def free_field():
    return _free_field
