"""BeamformerFrontend: shapes, streaming equivalence, buffers, errors, gradients, SNR gain."""

import json

import numpy as np
import pytest
import torch
import yaml

from espnet2_jstar.data.array import ArrayGeometry, direction_vector
from espnet2_jstar.frontends import FRONTEND_CHOICES, BeamformerFrontend

SMALL = dict(n_beams=5, n_mels=24, cnn_channels=4, cnn_bottleneck=2, output_size=32)


def test_shapes_seven_channels():
    fe = BeamformerFrontend(**SMALL)
    assert fe.num_channels == 7 and fe.output_size() == 32
    x = torch.randn(2, 3000, 7)
    feats, lens = fe(x, torch.tensor([3000, 1000]))
    assert feats.shape == (2, (3000 - 400) // 160 + 1, 32)
    assert lens.tolist() == [17, 4] and torch.all(feats[1, 4:] == 0)
    assert fe.beam_logmel(x).shape == (2, 17, 5, 24)
    assert fe.beamform(x).shape == (2, 17, 5, 257)


def test_one_channel_geometry(tmp_path):
    path = tmp_path / "array.json"
    ArrayGeometry.single_channel().to_json(path)
    fe = BeamformerFrontend(array_json=str(path), **SMALL)
    assert fe.num_channels == 1
    x = torch.randn(1, 1200)
    feats_mono, _ = fe(x, torch.tensor([1200]))
    feats_c1, _ = fe(x[..., None], torch.tensor([1200]))
    assert feats_mono.shape == (1, 6, 32)
    torch.testing.assert_close(feats_mono, feats_c1)
    # with one microphone every beam is the microphone itself
    assert torch.allclose(fe.weights(), torch.ones(5, 257, 1, dtype=torch.complex64))


def test_channel_mismatch():
    fe = BeamformerFrontend(**SMALL)
    with pytest.raises(ValueError, match="expected 7 channels, got 4"):
        fe(torch.randn(1, 800, 4), torch.tensor([800]))
    with pytest.raises(ValueError, match="expected 7 channels, got 1"):
        fe(torch.randn(1, 800), torch.tensor([800]))


def test_fusion_types():
    plane = BeamformerFrontend(fusion_type="beam_plane", **SMALL)
    chan = BeamformerFrontend(**SMALL)
    assert type(chan.fusion).__name__ == "BeamChannelFusion"
    # the first conv of the default fusion takes the beams as input channels
    assert chan.fusion.convs[0].weight.shape[1] == SMALL["n_beams"]
    assert type(plane.fusion).__name__ == "BeamFusionCNN"
    x = torch.randn(1, 1200, 7)
    assert plane(x)[0].shape == chan(x)[0].shape == (1, 6, 32)
    with pytest.raises(ValueError, match="fusion_type must be"):
        BeamformerFrontend(fusion_type="beam_cube", **SMALL)


def test_mouth_skip_starts_as_mouth_beam_logmel():
    conf = dict(SMALL, output_size=SMALL["n_mels"])
    fe = BeamformerFrontend(mouth_skip=True, **conf)
    x = torch.randn(2, 2000, 7)
    feats, lens = fe(x, torch.tensor([2000, 1500]))
    mouth = fe.beam_logmel(x)[:, :, 0]
    torch.testing.assert_close(feats[0], mouth[0])
    torch.testing.assert_close(feats[1, :lens[1]], mouth[1, :lens[1]])
    # the CNN still learns: the zero projection gets a gradient at the first step
    feats.square().mean().backward()
    assert fe.fusion.proj.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="mouth_skip needs output_size == n_mels"):
        BeamformerFrontend(mouth_skip=True, **SMALL)


def test_array_json_sample_rate_mismatch(tmp_path):
    path = tmp_path / "array.json"
    ArrayGeometry(sample_rate=8000).to_json(path)
    with pytest.raises(ValueError, match="sample_rate 8000"):
        BeamformerFrontend(array_json=str(path), **SMALL)


@pytest.mark.parametrize("fusion_type", ["beam_channels", "beam_plane"])
def test_frame_local_streaming(run_chunked, fusion_type):
    torch.manual_seed(0)
    fe = BeamformerFrontend(fusion_type=fusion_type, **SMALL).eval()
    x = torch.randn(1, 160 * 29 + 400 + 77, 7)
    full, _ = fe(x, torch.tensor([x.shape[1]]))
    for k in (1, 4, 11):
        torch.testing.assert_close(run_chunked(fe, x, k), full, atol=1e-4, rtol=1e-4)


def test_weights_are_buffers_not_parameters():
    fe = BeamformerFrontend(**SMALL)
    params = dict(fe.named_parameters())
    sd = fe.state_dict()
    assert {"weight_real", "weight_imag"} <= set(sd) and not any(
        n.startswith("weight_") for n in params)
    assert sd["weight_real"].shape == (5, 257, 7)
    assert all(n.startswith("fusion.") for n in params)
    # a float cast keeps the imaginary part (complex buffers would lose it)
    fe.to(dtype=torch.float64)
    assert fe.weight_imag.abs().max() > 0.1


@pytest.mark.parametrize("fusion_type", ["beam_channels", "beam_plane"])
def test_gradients_flow_to_cnn(fusion_type):
    fe = BeamformerFrontend(fusion_type=fusion_type, **SMALL)
    x = torch.randn(2, 1000, 7)
    feats, _ = fe(x, torch.tensor([1000, 1000]))
    feats.square().mean().backward()
    for name, p in fe.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert fe.weight_real.grad is None


def test_yaml_construction(tmp_path):
    path = tmp_path / "array.json"
    geo = ArrayGeometry()
    geo.to_json(path)
    text = f"""
frontend: beamformer
frontend_conf:
    array_json: {path}
    n_beams: 7
    beam_type: mvdr_diffuse
    diagonal_loading: 0.05
    n_mels: 40
    cnn_channels: 8
    output_size: 64
"""
    conf = yaml.safe_load(text)
    fe = FRONTEND_CHOICES[conf["frontend"]](**conf["frontend_conf"])
    feats, _ = fe(torch.randn(1, 720, 7), torch.tensor([720]))
    assert feats.shape == (1, 3, 64) and fe.weight_real.shape == (7, 257, 7)
    assert json.loads(path.read_text())["mic_positions"] == geo.mic_positions


@pytest.mark.parametrize("beam_type", ["superdirective", "mvdr_diffuse", "delay_and_sum"])
def test_mouth_beam_improves_snr_over_reference_mic(free_field, beam_type):
    """Free field: wearer's mouth vs a partner 1 m in front; beam 0 must beat mic 0 by > 3 dB."""
    fe = BeamformerFrontend(beam_type=beam_type, **SMALL)
    geo = fe.geometry
    mouth = free_field(geo.mic_positions, geo.mouth_position, 16000, seed=1)
    partner = free_field(geo.mic_positions, direction_vector(0, 0), 16000, seed=2)

    def band_power(spec):  # (..., T, F) complex → power summed over 150 Hz..8 kHz
        return spec[..., 5:].abs().square().sum().item()

    ref = geo.reference_mic
    snr_ref = band_power(fe.stft(mouth[..., ref])) / band_power(fe.stft(partner[..., ref]))
    snr_beam = band_power(fe.beamform(mouth)[:, :, 0]) / band_power(fe.beamform(partner)[:, :, 0])
    gain_db = 10 * np.log10(snr_beam / snr_ref)
    assert gain_db > 3.0, gain_db
    # and the mouth passes undistorted: beam 0 reproduces the reference mic's mouth signal
    # (to within the STFT's narrowband approximation; bins near Nyquist excluded)
    y0, x0 = fe.beamform(mouth)[0, :, 0, 5:250], fe.stft(mouth[0, :, ref])[:, 5:250]
    err_db = 10 * torch.log10((y0 - x0).abs().square().sum(0) / x0.abs().square().sum(0))
    assert err_db.max() < -20, err_db.max()
