#!/usr/bin/env python3
"""Report on the fixed beam bank of ``BeamformerFrontend``: plots, simulated SNR gain, pra check.

Writes
  <outdir>/beam_directivity_wng.png   directivity index and white-noise gain per beam vs frequency
  <outdir>/beam_patterns.png          horizontal (azimuth) beam patterns at a few frequencies
and prints
  (c) on a pyroomacoustics scene (wearer's mouth + partner + diffuse-like noise, default
      glasses geometry) the SNR/SIR/SINR gain of beam 0 over the reference microphone;
  (d) the max abs difference between our weights and pyroomacoustics' designs for the same
      geometry/direction, and between our narrowband output SNR and ``pra.Beamformer.snr``.

Usage: python local/beamformer_report.py [--beam_type superdirective] [--outdir docs/img]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import types

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pyroomacoustics as pra  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
from scipy.signal import resample_poly  # noqa: E402

from espnet2_jstar.data.array import ArrayGeometry, direction_vector  # noqa: E402
from espnet2_jstar.frontends import BeamformerFrontend  # noqa: E402
from espnet2_jstar.frontends.beam_design import (  # noqa: E402
    azimuth_response,
    design_beams,
    diffuse_coherence,
    directivity_index,
    white_noise_gain,
)

SPEECH_BAND = (200.0, 7000.0)


# --------------------------------------------------------------------------- (a), (b) plots
def plot_di_wng(w, d, freqs, mics, azimuths, path, title):
    di, wng = directivity_index(w, d, mics, freqs), white_noise_gain(w, d)
    fig, axes = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    cmap = plt.get_cmap("viridis")
    for ax, val, name in ((axes[0], di, "directivity index [dB]"),
                          (axes[1], wng, "white-noise gain [dB]")):
        for n in range(1, len(w)):
            ax.plot(freqs, val[n], color=cmap(n / len(w)), lw=0.9,
                    label=f"beam {n} ({azimuths[n - 1]:.0f}°)")
        ax.plot(freqs, val[0], color="k", lw=2.2, label="beam 0 (mouth)")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[1].axhline(0, color="r", ls=":", lw=1)
    axes[1].set_xlabel("frequency [Hz]")
    axes[0].set_title(title)
    axes[0].legend(fontsize=7, ncol=3, loc="upper right")
    axes[0].text(0.01, 0.02, "beam 0: near-field steering and DI vs a far-field diffuse field "
                 "(includes the 1/r level differences)", transform=axes[0].transAxes, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return di, wng


def plot_patterns(w, freqs, mics, ref, azimuths, path, title, plot_freqs=(500, 1000, 2000, 4000)):
    az = np.arange(0, 361, 2.0)
    beams = [0] + [1 + k for k in range(0, len(azimuths), max(1, len(azimuths) // 4))]
    fig, axes = plt.subplots(1, len(plot_freqs), subplot_kw={"projection": "polar"},
                             figsize=(4 * len(plot_freqs), 4.4))
    for ax, f0 in zip(axes, plot_freqs):
        i = int(np.argmin(np.abs(freqs - f0)))
        resp = azimuth_response(w[:, i:i + 1], mics, freqs[i:i + 1], az, 0.0, ref)[:, 0]
        for n in beams:
            db = np.maximum(20 * np.log10(np.abs(resp[n]) + 1e-12), -30)
            label = "beam 0 (mouth)" if n == 0 else f"beam {n} ({azimuths[n - 1]:.0f}°)"
            ax.plot(np.deg2rad(az), db, lw=2 if n == 0 else 1.2, label=label,
                    color="k" if n == 0 else None)
        ax.set_rlim(-30, 5)
        ax.set_rticks([-20, -10, 0])
        ax.set_rlabel_position(200)
        ax.set_title(f"{freqs[i]:.0f} Hz", pad=12)
        ax.set_theta_zero_location("N")  # 0° = gaze, counter-clockwise = left
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(beams), fontsize=8)
    fig.suptitle(title + " — horizontal far-field response [dB], 0° = gaze, 90° = left")
    fig.tight_layout(rect=(0, 0.07, 1, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- (c) scene
def speech_like(text, seconds, fs, rng):
    """espeak-ng speech (if installed) else speech-shaped, syllable-modulated noise."""
    n = int(seconds * fs)
    exe = shutil.which("espeak-ng")
    if exe and text:
        with tempfile.TemporaryDirectory() as tmp:
            wav = os.path.join(tmp, "s.wav")
            subprocess.run([exe, "-w", wav, text], check=True, capture_output=True)
            x, sr = sf.read(wav)
        x = resample_poly(x, fs, sr) if sr != fs else x
        x = np.tile(x, int(np.ceil(n / len(x))))[:n]
    else:
        white = rng.standard_normal(n)
        spec = np.fft.rfft(white)
        f = np.fft.rfftfreq(n, 1 / fs)
        spec /= np.sqrt(1 + (f / 500.0) ** 2)  # ~ -6 dB/octave above 500 Hz
        t = np.arange(n) / fs
        x = np.fft.irfft(spec, n) * np.abs(np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, 6)))
    return x / np.std(x)


def render_components(geo, origin, args, rng):
    """Mic signals of each component separately (linearity): mouth, partner, noise, each (S, C)."""
    room_dim = [5.0, 4.0, 3.0]
    if args.rt60 > 0:
        e_abs, max_order = pra.inverse_sabine(args.rt60, room_dim)
        materials, order = pra.Material(e_abs), max_order
    else:
        materials, order = pra.Material(1.0), 0
    mics = (np.asarray(geo.mic_positions) + origin).T
    fs, dur = geo.sample_rate, args.seconds
    sources = {
        "mouth": [(origin + np.asarray(geo.mouth_position),
                   speech_like("where is the train station, is it near the river", dur, fs, rng))],
        "partner": [(origin + 1.2 * np.asarray(direction_vector(20.0, 0.0)) + [0, 0, -0.05],
                     speech_like("esta cerca del rio, a diez minutos de aqui", dur, fs, rng))],
        # diffuse-like background: 8 independent noise sources around the room
        "noise": [(np.array([0.5 + 4.0 * (k % 4) / 3, 0.4 + 3.2 * (k // 4), 1.0 + 0.9 * (k % 2)]),
                   speech_like("", dur, fs, rng)) for k in range(8)],
    }
    out = {}
    for name, srcs in sources.items():
        room = pra.ShoeBox(room_dim, fs=fs, materials=materials, max_order=order)
        room.add_microphone_array(mics)
        for pos, sig in srcs:
            room.add_source(pos, signal=sig)
        room.simulate()
        out[name] = room.mic_array.signals.T[: int(dur * fs)]  # (S, C)
    return out


def band_power_stft(spec, freqs):
    band = (freqs >= SPEECH_BAND[0]) & (freqs <= SPEECH_BAND[1])
    return float(spec[..., band].abs().square().sum())


def scene_report(geo, args, rng):
    origin = np.array([2.0, 1.8, 1.6])  # array frame axes = room axes; wearer looks along +x
    comp = render_components(geo, origin, args, rng)
    ref = geo.reference_mic
    # levels at the reference mic: partner 0 dB below the wearer, noise 5 dB below
    p = {k: np.mean(v[:, ref] ** 2) for k, v in comp.items()}
    comp["partner"] *= np.sqrt(p["mouth"] / p["partner"])
    comp["noise"] *= np.sqrt(p["mouth"] / p["noise"] / 10 ** 0.5)
    rows = []
    for bt in ("superdirective", "mvdr_diffuse", "delay_and_sum"):
        fe = BeamformerFrontend(beam_type=bt, n_beams=args.n_beams,
                                diagonal_loading=args.diagonal_loading, array_json=args.array_json,
                                fs=geo.sample_rate)
        freqs = np.arange(fe.stft.n_freqs) * geo.sample_rate / fe.stft.n_fft
        pw_ref, pw_b0 = {}, {}
        for k, v in comp.items():
            x = torch.from_numpy(v).float()[None]
            pw_ref[k] = band_power_stft(fe.stft(x[..., ref]), freqs)
            pw_b0[k] = band_power_stft(fe.beamform(x)[:, :, 0], freqs)

        def db(pw, a, b):
            return 10 * np.log10(pw[a] / sum(pw[x] for x in b))

        rows.append((bt, db(pw_ref, "mouth", ["partner"]), db(pw_b0, "mouth", ["partner"]),
                     db(pw_ref, "mouth", ["noise"]), db(pw_b0, "mouth", ["noise"]),
                     db(pw_ref, "mouth", ["partner", "noise"]),
                     db(pw_b0, "mouth", ["partner", "noise"])))
    return rows, comp


def band_power_td(x, fs):
    f = np.fft.rfftfreq(len(x), 1 / fs)
    band = (f >= SPEECH_BAND[0]) & (f <= SPEECH_BAND[1])
    return float(np.sum(np.abs(np.fft.rfft(x)[band]) ** 2))


def pra_processed_gain(geo, comp, w0, n_fft):
    """SINR gain (speech band) of beam 0 when pyroomacoustics applies weights ``w0`` itself.

    pra turns the (F, C) weights into time-domain filters (``filters_from_weights``) and
    filters the microphone signals (``process``); its FD path is broken in pra 0.10.1.
    """
    ref = geo.reference_mic
    bf = pra.Beamformer(np.asarray(geo.mic_positions).T, geo.sample_rate, N=n_fft)
    bf.weights = w0.T.copy()  # (C, F)
    bf.filters_from_weights()
    outs = {}
    for k, v in comp.items():
        bf.signals = v.T
        y = bf.process(FD=False)[n_fft: len(v) - n_fft]  # filter delay n_fft/2
        outs[k] = (band_power_td(y, geo.sample_rate),
                   band_power_td(v[n_fft: len(v) - n_fft, ref], geo.sample_rate))
    ratio = lambda i: outs["mouth"][i] / (outs["partner"][i] + outs["noise"][i])  # noqa: E731
    return 10 * np.log10(ratio(0) / ratio(1))


# --------------------------------------------------------------------------- (d) pra check
def pra_comparison(geo, n_beams, diagonal_loading):
    mics = np.asarray(geo.mic_positions)
    fs, n_fft = geo.sample_rate, 512
    w_ds, d, freqs = design_beams(geo, n_beams, fs, n_fft, "delay_and_sum")
    w_sd, _, _ = design_beams(geo, n_beams, fs, n_fft, "superdirective", diagonal_loading)

    def normalise(w_pra, steer):  # scale pra weights to the same distortionless constraint
        return w_pra / np.einsum("fc,fc->f", w_pra.conj(), steer).conj()[:, None]

    res = {}
    bf2 = pra.Beamformer(mics[:, :2].T, fs, N=n_fft)  # far field, horizontal → xy plane
    err = 0.0
    for k, az in enumerate(np.deg2rad(np.arange(n_beams - 1) * 360.0 / (n_beams - 1)), start=1):
        bf2.far_field_weights(az)
        err = max(err, np.abs(normalise(bf2.weights.T, d[k]) - w_ds[k]).max())
    res["delay-and-sum far-field beams vs pra far_field_weights"] = err

    bf3 = pra.Beamformer(mics.T, fs, N=n_fft)
    mouth = types.SimpleNamespace(images=np.asarray(geo.mouth_position, float)[:, None])
    bf3.rake_delay_and_sum_weights(mouth, attn=True)
    res["delay-and-sum mouth beam vs pra rake_delay_and_sum_weights"] = np.abs(
        normalise(bf3.weights.T, d[0]) - w_ds[0]).max()

    gamma = diffuse_coherence(mics, freqs) + diagonal_loading * np.eye(len(mics))[None]
    w_pra = np.zeros_like(w_sd[0])
    for i in range(len(freqs)):
        bf3.rake_one_forcing_weights(mouth, None, R_n=gamma[i], attn=True)
        w_pra[i] = bf3.weights[:, i]
    res["superdirective mouth beam vs pra rake_one_forcing_weights(R_n=diffuse+loading)"] = \
        np.abs(normalise(w_pra, d[0]) - w_sd[0]).max()

    # narrowband output SNR (mouth vs partner at 1.2 m, plus diffuse noise) with our weights,
    # computed by pra.Beamformer.snr and by hand with the same free-field steering model
    partner = types.SimpleNamespace(images=1.2 * np.asarray(direction_vector(20, 0))[:, None])
    bf3.weights = w_sd[0].T.copy()
    diffs, snrs = [], []
    for f0 in (250, 500, 1000, 2000, 4000, 7000):
        i = int(np.argmin(np.abs(freqs - f0)))
        r_n = 1e-4 * gamma[i]
        snr_pra = bf3.snr(mouth, partner, freqs[i], R_n=r_n, dB=True)

        def a(p):
            dist = np.linalg.norm(mics - p.images[:, 0], axis=1)
            return np.exp(-2j * np.pi * freqs[i] * dist / 343.0) / (4 * np.pi * dist)

        w = w_sd[0, i]
        r = r_n + np.outer(a(partner), a(partner).conj())
        ours = 10 * np.log10(np.abs(w.conj() @ a(mouth)) ** 2 / np.real(w.conj() @ r @ w))
        diffs.append(abs(float(np.real(snr_pra)) - ours))
        snrs.append(f"{freqs[i]:.0f} Hz {ours:.2f}")
    res["narrowband output SNR [dB] vs pra Beamformer.snr (" + ", ".join(snrs) + " dB)"] = \
        max(diffs)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--array_json", default=None, help="default: the 7-mic glasses geometry")
    ap.add_argument("--beam_type", default="superdirective")
    ap.add_argument("--n_beams", type=int, default=13)
    ap.add_argument("--diagonal_loading", type=float, default=1e-2)
    ap.add_argument("--rt60", type=float, default=0.3, help="0 = anechoic")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--outdir", default="docs/img")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    torch.set_num_threads(1)
    geo = ArrayGeometry.from_json(args.array_json) if args.array_json else ArrayGeometry()
    os.makedirs(args.outdir, exist_ok=True)

    w, d, freqs = design_beams(geo, args.n_beams, geo.sample_rate, 512, args.beam_type,
                               args.diagonal_loading)
    azimuths = [360.0 * k / (args.n_beams - 1) for k in range(args.n_beams - 1)]
    mics = np.asarray(geo.mic_positions)
    title = f"{geo.name}: {args.beam_type}, N={args.n_beams}, loading={args.diagonal_loading:g}"
    p1 = os.path.join(args.outdir, "beam_directivity_wng.png")
    p2 = os.path.join(args.outdir, "beam_patterns.png")
    di, wng = plot_di_wng(w, d, freqs, mics, azimuths, p1, title)
    plot_patterns(w, freqs, mics, geo.reference_mic, azimuths, p2, title)
    print(f"wrote {p1}\nwrote {p2}")
    resp = np.einsum("nfc,nfc->nf", w.conj(), d)
    print(f"(check) max |w^H d - 1| over beams and bins: {np.abs(resp - 1).max():.2e}")
    band = (freqs >= 300) & (freqs <= 3400)
    print(f"(a) mean over 300-3400 Hz: beam 0 DI {di[0, band].mean():.1f} dB, "
          f"WNG {wng[0, band].mean():.1f} dB (min over all bins {wng[0].min():.1f} dB); "
          f"far-field beams DI {di[1:, band].mean():.1f} dB, WNG {wng[1:, band].mean():.1f} dB "
          f"(min {wng[1:].min():.1f} dB)")

    rows, comp = scene_report(geo, args, rng)
    print(f"(c) pyroomacoustics scene: 5x4x3 m room, RT60 {args.rt60} s, mouth + partner "
          f"(1.2 m, 20°) + 8 noise sources; {SPEECH_BAND[0]:.0f}-{SPEECH_BAND[1]:.0f} Hz; "
          "broadband input at ref mic: SIR 0 dB, SNR 5 dB")
    print(f"    {'beam type':15s} {'SIR ref->beam0':>16s} {'SNR ref->beam0':>16s} "
          f"{'SINR ref->beam0':>17s} {'SINR gain':>10s}")
    for bt, sir_r, sir_b, snr_r, snr_b, sinr_r, sinr_b in rows:
        print(f"    {bt:15s} {sir_r:6.1f} -> {sir_b:5.1f} {snr_r:8.1f} -> {snr_b:5.1f} "
              f"{sinr_r:9.1f} -> {sinr_b:5.1f} {sinr_b - sinr_r:+9.1f} dB")
    g_pra = pra_processed_gain(geo, comp, w[0], 512)
    print(f"    same scene, beam-0 {args.beam_type} weights as pra.Beamformer time-domain "
          f"filters (filters_from_weights + process), same band: SINR gain {g_pra:+.1f} dB")

    print("(d) agreement with pyroomacoustics (max abs difference):")
    for k, v in pra_comparison(geo, args.n_beams, args.diagonal_loading).items():
        print(f"    {k}: {v:.2e}")


if __name__ == "__main__":
    main()
