"""Beam-bank design: distortionless beams, sanity of DI/WNG, agreement with pyroomacoustics."""

import types

import numpy as np
import pytest
import torch

from espnet2_jstar.data.array import ArrayGeometry, direction_vector
from espnet2_jstar.frontends import BeamformerFrontend
from espnet2_jstar.frontends.beam_design import (
    BEAM_TYPES,
    design_beams,
    directivity_index,
    mvdr_weights,
    diffuse_coherence,
    steering_bank,
    white_noise_gain,
)

GEO = ArrayGeometry()
MICS = np.asarray(GEO.mic_positions)


@pytest.mark.parametrize("beam_type", BEAM_TYPES)
def test_frontend_buffers_are_distortionless_per_beam(beam_type):
    """|w^H d - 1| < 1e-4 for every beam and every bin, with the stored float32 weights."""
    fe = BeamformerFrontend(beam_type=beam_type, n_beams=13)
    _, steer, _ = design_beams(GEO, 13, 16000, 512, beam_type)
    w = fe.weights().to(torch.complex128).numpy()  # (N, F, C)
    assert w.shape == (13, 257, 7)
    resp = np.einsum("nfc,nfc->nf", w.conj(), steer)
    assert np.abs(resp - 1).max() < 1e-4


def test_steering_directions():
    """Beam 0 is the mouth (spherical wave), beams 1.. are uniform azimuths at elevation 0."""
    f = np.array([1000.0])
    d = steering_bank(GEO, 5, f)
    assert np.allclose(d[:, :, GEO.reference_mic], 1)
    dist = np.linalg.norm(MICS - np.asarray(GEO.mouth_position), axis=1)
    assert np.allclose(np.abs(d[0, 0]), dist[0] / dist)  # 1/r amplitude, near field
    for k, az in enumerate([0, 90, 180, 270], start=1):
        u = np.asarray(direction_vector(az, 0))
        lead = (MICS - MICS[0]) @ u
        assert np.allclose(d[k, 0], np.exp(2j * np.pi * 1000 * lead / 343.0))


def test_superdirective_beats_delay_and_sum_in_diffuse_noise():
    w_sd, d, f = design_beams(GEO, 13, 16000, 512, "superdirective", 1e-2)
    w_ds, _, _ = design_beams(GEO, 13, 16000, 512, "delay_and_sum")
    band = (f > 300) & (f < 3000)
    di_sd = directivity_index(w_sd, d, MICS, f)[:, band]
    di_ds = directivity_index(w_ds, d, MICS, f)[:, band]
    assert np.all(di_sd >= di_ds - 1e-9) and di_sd.mean() > di_ds.mean() + 2
    # delay-and-sum maximises the white-noise gain; for a plane wave it is 10 log10(C)
    wng_ds = white_noise_gain(w_ds, d)
    assert np.allclose(wng_ds[1:], 10 * np.log10(7))
    assert np.all(white_noise_gain(w_sd, d) <= wng_ds + 1e-9)


def test_heavy_loading_tends_to_delay_and_sum():
    _, d, f = design_beams(GEO, 3, 16000, 64, "delay_and_sum")
    w_ds, _, _ = design_beams(GEO, 3, 16000, 64, "delay_and_sum")
    w_big = mvdr_weights(d, diffuse_coherence(MICS, f), 1e8)
    assert np.abs(w_big - w_ds).max() < 1e-6


def test_matches_pyroomacoustics():
    """Same weights as pra's far-field and MVDR (``rake_one_forcing_weights``) designs."""
    pra = pytest.importorskip("pyroomacoustics")
    w_ds, d, f = design_beams(GEO, 5, 16000, 512, "delay_and_sum")
    w_sd, _, _ = design_beams(GEO, 5, 16000, 512, "superdirective", 1e-2)

    def normalise(w_pra, steer):  # pra weights scaled to the same distortionless constraint
        return w_pra / np.einsum("fc,fc->f", w_pra.conj(), steer).conj()[:, None]

    # far field, horizontal: pra works in the xy plane
    bf2 = pra.Beamformer(MICS[:, :2].T, 16000, N=512)
    for k, az in enumerate([0, 90, 180, 270], start=1):
        bf2.far_field_weights(np.deg2rad(az))
        assert np.abs(normalise(bf2.weights.T, d[k]) - w_ds[k]).max() < 1e-9
    # near-field MVDR toward the mouth against diffuse noise + loading
    bf3 = pra.Beamformer(MICS.T, 16000, N=512)
    gamma = diffuse_coherence(MICS, f) + 1e-2 * np.eye(7)
    src = types.SimpleNamespace(images=np.asarray(GEO.mouth_position, float)[:, None])
    ws = []
    for i in range(len(f)):  # pra takes one noise covariance for all bins
        bf3.rake_one_forcing_weights(src, None, R_n=gamma[i], attn=True)
        ws.append(bf3.weights[:, i])
    assert np.abs(normalise(np.stack(ws), d[0]) - w_sd[0]).max() < 1e-8
