"""JSTARStreamer: equals the chunked batch decoder (greedy and beam), flushes partial chunks,
keeps flat memory on a 10-minute stream, handles silence / very short audio, and rejects a
wrong sample rate or channel count."""

import numpy as np
import pytest
import torch

from espnet2_jstar.decoding.batch import JSTARSpeech2Text
from espnet2_jstar.decoding.streamer import JSTARStreamer
from espnet2_jstar.decoding.text import TokenDecoder
from espnet2_jstar.tasks.jstar import JSTARTask
from jstar_testutil import load_batch, overfit, tiny_args
from toydata import make_toy_dataset


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = make_toy_dataset(tmp_path_factory.mktemp("toy"), n=2)
    args = tiny_args(root)
    torch.manual_seed(0)
    model = JSTARTask.build_model(args)
    # a little training, so that both greedy and beam search emit tokens (an untrained
    # transducer's best path is all blanks)
    _, batch, _, _ = load_batch(root, args)
    overfit(model, batch, steps=150)
    model.eval()
    toks = (TokenDecoder.from_train_args(args, "asr"), TokenDecoder.from_train_args(args, "st"))
    return model, toks


@pytest.mark.parametrize("beam", [1, 3])
@pytest.mark.parametrize("seconds", [1.37, 2.0])
def test_streaming_equals_chunked_batch_decoding(setup, beam, seconds):
    model, (at, st) = setup
    wav = np.random.default_rng(1).standard_normal(int(16000 * seconds)).astype(np.float32) * 0.1
    batch = JSTARSpeech2Text(model, at, st, beam_size=beam)(wav)
    for piece in (0.013, 0.1, 0.5):
        res = JSTARStreamer(model, at, st, beam_size=beam).decode_utterance(wav, piece)
        assert res.asr.token_int == batch["asr"].token_int
        assert res.st.token_int == batch["st"].token_int
    emitted = len(batch["asr"].token_int) + len(batch["st"].token_int)
    assert emitted > 0 if beam > 1 else (batch["asr"].token_int and batch["st"].token_int)


def test_emission_times_are_audio_consumed(setup):
    model, (at, st) = setup
    wav = np.random.default_rng(2).standard_normal(16000 * 3).astype(np.float32) * 0.1
    res = JSTARStreamer(model, at, st).decode_utterance(wav, 0.25)
    fast = model.fast_encoder
    chunk_s = fast.chunk_size * fast.subsampling_factor * 0.01
    for e in res.asr_events:
        assert 0 < e.t <= 3.0 + 1e-6 and e.wall >= e.t
    # ideal times fall on fast-chunk boundaries (plus the receptive field), not on the 250 ms
    # feeding grid
    ts = sorted({round(e.t, 4) for e in res.asr_events})
    assert any(abs((t / 0.25) - round(t / 0.25)) > 1e-3 for t in ts)
    assert all(round(b - a, 4) >= round(chunk_s, 4) - 1e-6 for a, b in zip(ts, ts[1:]))


def test_ten_minute_stream_has_flat_memory(setup):
    model, (at, st) = setup
    streamer = JSTARStreamer(model, at, st)
    s = streamer.create_stream()
    rng = np.random.default_rng(3)
    sizes = []
    for i in range(600):  # 600 x 1 s = 10 minutes
        streamer.accept_waveform(s, rng.standard_normal(16000).astype(np.float32) * 0.1)
        streamer.decode(s)
        if i % 60 == 59:
            sizes.append(s.fast.num_cached_elements() + s.slow.num_cached_elements()
                         + s.samples.numel())
    streamer.input_finished(s)
    streamer.decode(s)
    assert max(sizes[1:]) <= min(sizes[1:]) * 1.05 + 2000
    assert s.received == 600 * 16000 and s.fast.processed > 14000


def test_silence_and_shorter_than_one_chunk(setup):
    model, (at, st) = setup
    streamer = JSTARStreamer(model, at, st)
    for n in (0, 100, 400, 1200):  # nothing, < one window, one frame, < one fast chunk
        res = streamer.decode_utterance(np.zeros(n, np.float32), 0.1)
        assert res.audio_seconds == n / 16000
    res = streamer.decode_utterance(np.zeros(16000 * 2, np.float32), 0.1)
    assert res.audio_seconds == 2.0


def test_flush_emits_the_partial_last_chunk(setup):
    model, (at, st) = setup
    wav = np.random.default_rng(4).standard_normal(int(16000 * 1.9)).astype(np.float32) * 0.1
    streamer = JSTARStreamer(model, at, st)
    s = streamer.create_stream()
    streamer.accept_waveform(s, wav)
    streamer.decode(s)
    before = s.fast.emitted
    streamer.input_finished(s)
    streamer.decode(s)
    assert s.fast.emitted > before
    assert s.fast.emitted == int(model.fast_encoder.output_lengths(
        torch.tensor((wav.size - 400) // 160 + 1)))


def test_bad_rate_and_channels(setup):
    model, (at, st) = setup
    streamer = JSTARStreamer(model, at, st)
    s = streamer.create_stream()
    with pytest.raises(ValueError, match="8000 Hz.*16000 Hz"):
        streamer.accept_waveform(s, np.zeros(800, np.float32), sample_rate=8000)
    model.frontend.num_channels = 7
    try:
        with pytest.raises(ValueError, match="1 channel.*expects 7"):
            JSTARStreamer(model, at, st).accept_waveform(
                JSTARStreamer(model, at, st).create_stream(), np.zeros(800, np.float32))
    finally:
        model.frontend.num_channels = None
