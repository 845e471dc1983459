"""SingleChannelFbank: shapes, channel handling, frame-locality, numerics."""

import numpy as np
import pytest
import torch
import yaml

from espnet2_jstar.frontends import FRONTEND_CHOICES, SingleChannelFbank


def test_shapes_mono_and_multichannel():
    fe = SingleChannelFbank(n_mels=40)
    x = torch.randn(2, 4000)
    feats, lens = fe(x, torch.tensor([4000, 2500]))
    assert feats.shape == (2, (4000 - 400) // 160 + 1, 40) and fe.output_size() == 40
    assert lens.tolist() == [23, 14]
    assert torch.all(feats[1, 14:] == 0) and torch.all(feats[1, :14] != 0)
    # (B, S, C): picks `channel`
    xc = torch.stack([torch.zeros_like(x), x, torch.zeros_like(x)], dim=-1)
    feats_c, _ = SingleChannelFbank(n_mels=40, channel=1)(xc, torch.tensor([4000, 2500]))
    torch.testing.assert_close(feats_c, feats)


def test_too_short_gives_zero_frames():
    feats, lens = SingleChannelFbank()(torch.randn(1, 399), torch.tensor([399]))
    assert feats.shape == (1, 0, 80) and lens.tolist() == [0]


def test_channel_count_mismatch():
    fe = SingleChannelFbank(num_channels=7)
    with pytest.raises(ValueError, match="expected 7 channels, got 3"):
        fe(torch.randn(1, 1000, 3), torch.tensor([1000]))
    with pytest.raises(ValueError, match="expected 7 channels, got 1"):
        fe(torch.randn(1, 1000), torch.tensor([1000]))
    with pytest.raises(ValueError, match="channel 4"):
        SingleChannelFbank(channel=4)(torch.randn(1, 1000, 2), torch.tensor([1000]))


def test_frame_local_streaming(run_chunked):
    fe = SingleChannelFbank()
    x = torch.randn(1, 160 * 37 + 400 + 53)
    full, _ = fe(x, torch.tensor([x.shape[1]]))
    for k in (1, 5, 16):
        torch.testing.assert_close(run_chunked(fe, x, k), full, atol=1e-5, rtol=1e-5)


def test_matches_reference_computation():
    """One frame by hand: periodic Hann over win samples, zero-padded FFT, librosa mel."""
    librosa = pytest.importorskip("librosa")
    fe = SingleChannelFbank(fmin=20.0, fmax=7600.0)
    x = torch.randn(1, 1200, dtype=torch.float64)
    feats, _ = fe(x.float(), torch.tensor([1200]))
    t = 3
    frame = x[0, t * 160: t * 160 + 400].numpy()
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)
    power = np.abs(np.fft.rfft(frame * win, n=512)) ** 2
    mel = librosa.filters.mel(sr=16000, n_fft=512, n_mels=80, fmin=20.0, fmax=7600.0)
    ref = np.log(np.maximum(mel @ power, 1e-10))
    np.testing.assert_allclose(feats[0, t].numpy(), ref, atol=1e-3, rtol=1e-4)


def test_yaml_construction():
    conf = yaml.safe_load(
        "frontend: fbank\nfrontend_conf: {n_mels: 64, num_channels: 7, channel: 2}")
    fe = FRONTEND_CHOICES[conf["frontend"]](**conf["frontend_conf"])
    feats, _ = fe(torch.randn(1, 800, 7), torch.tensor([800]))
    assert feats.shape == (1, 3, 64) and fe.num_channels == 7
    assert (fe.hop_length, fe.win_length) == (160, 400)
