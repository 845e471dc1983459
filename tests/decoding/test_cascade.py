"""Cascade baseline: ASR-only config trains, segment endpoints, emission order, decode dir."""

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from espnet2_jstar.decoding.cascade import CascadeDecoder, text_to_pieces
from espnet2_jstar.decoding.search import SearchState
from espnet2_jstar.decoding.streamer import JSTARStreamer
from espnet2_jstar.decoding.text import TokenDecoder
from espnet2_jstar.metrics.score import score_decode_dir
from espnet2_jstar.metrics.text import SPEAKER_TAGS, pieces_to_words, split_sot, tokenize_sot
from espnet2_jstar.tasks.jstar import JSTARTask
from jstar_testutil import load_batch, tiny_args
from toydata import make_toy_dataset

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "conf/tuning/train_cascade_asr_mini.yaml"
ASR_ONLY = ["--slow_encoder", "none", "--model_conf", "asr_weight=1.0"]
CHUNK = 4 * 0.04  # tiny fast encoder: 4 frames of 40 ms per chunk


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy"), n=3)


@pytest.fixture(scope="module")
def tiny(toy):
    torch.manual_seed(0)
    args = tiny_args(toy, ASR_ONLY)
    model = JSTARTask.build_model(args).eval()
    return model, args


TINY_MT = ["--slow_encoder_conf",
           "{hidden_size: 32, linear_size: 64, num_blocks: 1, heads: 2, conv_mod_kernel_size: 3, "
           "dropout_rate: 0.0, chunk_size: 4, num_left_chunks: 2, chunk_range: [2, 6], "
           "input_conf: {block_type: linear, subsampling_factor: 2}}",
           "--st_decoder_conf", "{embed_size: 32, hidden_size: 32}",
           "--st_joint_network_conf", "{joint_space_size: 32}", "--output_dir", "unused"]


@pytest.fixture(scope="module")
def mt_files(toy, tmp_path_factory):
    """A tiny random-init transducer MT model saved as config.yaml + model.pth."""
    from espnet2_jstar.tasks.mt import MTTask

    torch.manual_seed(0)
    args = MTTask.get_parser().parse_args([
        "--token_list", str(toy / "bpe/tokens.txt"), "--bpemodel", str(toy / "bpe/bpe.model"),
        *TINY_MT])
    model = MTTask.build_model(args)
    d = tmp_path_factory.mktemp("mt")
    with open(d / "config.yaml", "w") as f:
        yaml.safe_dump(vars(args), f)
    torch.save(model.state_dict(), d / "model.pth")
    return d / "config.yaml", d / "model.pth"


class FakeMT:
    """Keeps the leading tag, prefixes every word with "x"; optionally slow or tag-dropping."""

    def __init__(self, delay: float = 0.0, drop_tag: bool = False):
        self.delay, self.drop_tag, self.calls = delay, drop_tag, []

    def translate(self, text: str) -> str:
        self.calls.append(text)
        time.sleep(self.delay)
        words = tokenize_sot(text)
        out = [w if w in SPEAKER_TAGS else "x" + w for w in words]
        if self.drop_tag and out and out[0] in SPEAKER_TAGS:
            out = out[1:]
        return " ".join(out)


class ScriptedSearch:
    """ASR search that emits given token ids at given encoder frames (the model still runs)."""

    def __init__(self, script):
        self.script = script

    def init_state(self, device=None):
        return SearchState()

    def step(self, enc_out, state, final=False):
        new = []
        for t in range(enc_out.size(0)):
            frame = state.num_frames + t
            for tok in self.script.get(frame, []):
                state.tokens.append(tok)
                state.frames.append(frame)
                new.append(tok)
        state.num_frames += enc_out.size(0)
        return new


def streamer_for(model, args, endpoint_seconds=0.3):
    return JSTARStreamer(model, TokenDecoder.from_train_args(args, "asr"),
                         TokenDecoder.from_train_args(args, "st"),
                         endpoint_seconds=endpoint_seconds)


def check_order(res, endpoint_seconds, chunk_seconds):
    """Every ASR word goes to MT exactly once, in order, no earlier than it was emitted; MT
    pieces carry their segment's endpoint time; an endpoint follows enough silence (measured
    in encoder frames, while a token's t is the end of its chunk); wall >= t."""
    for e in res.asr_events + res.st_events:
        assert e.wall >= e.t
    ts = [e.t for e in res.st_events]
    assert ts == sorted(ts)
    words = [w for w in pieces_to_words([vars(e) for e in res.asr_events])
             if w.word not in SPEAKER_TAGS]
    k = 0
    for seg in res.segments:
        assert seg.t <= res.audio_seconds + 1e-9
        n = len([w for w in tokenize_sot(seg.src) if w not in SPEAKER_TAGS])
        assert n > 0
        assert all(w.t <= seg.t for w in words[k:k + n])
        if seg.reason == "endpoint":
            assert seg.t - words[k + n - 1].t >= endpoint_seconds - chunk_seconds - 1e-6
        k += n
    assert k == len(words)
    st_t = {e.t for e in res.st_events}
    assert st_t <= {seg.t for seg in res.segments}


def test_cascade_config_trains_asr_only(toy):
    """The shipped ASR config builds through JSTARTask; loss == ASR loss, ST head idle."""
    args = JSTARTask.get_parser().parse_args([
        "--config", str(CONFIG), "--token_list", str(toy / "bpe/tokens.txt"),
        "--bpemodel", str(toy / "bpe/bpe.model")])
    conf = yaml.safe_load(CONFIG.read_text())
    assert conf["slow_encoder"] == "none" and conf["model_conf"] == {"asr_weight": 1.0}
    ref = yaml.safe_load((REPO / "conf/tuning/train_jstar_conformer_mini.yaml").read_text())
    for k in ("frontend_conf", "fast_encoder_conf", "asr_decoder_conf",
              "asr_joint_network_conf"):
        assert conf[k] == ref[k], k
    torch.manual_seed(0)
    model = JSTARTask.build_model(args)
    assert model.slow_encoder is None and model.asr_weight == 1.0
    _, batch, _, _ = load_batch(toy, args)
    model.train()
    loss, stats, _ = model(**batch)
    torch.testing.assert_close(stats["loss"], stats["loss_asr"])
    loss.backward()
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0
               for p in model.fast_encoder.parameters())
    for p in model.st_head.parameters():
        assert p.grad is None or float(p.grad.abs().max()) == 0.0


def test_segments_endpoints_and_times(tiny):
    """Scripted ASR output: endpoint (silence), speaker tag and end of stream close segments."""
    model, args = tiny
    streamer = streamer_for(model, args, endpoint_seconds=0.3)
    ids = {p: i for i, p in enumerate(streamer.asr_tokens.converter.token_list)}
    s, o = ids["<self>"], ids["<other>"]
    streamer.asr_search = ScriptedSearch({
        2: [s, ids["▁ho"]], 4: [ids["▁ca"]],            # <self> ho ca ... silence -> endpoint
        20: [ids["▁a"]],                                  # same speaker continues (no tag)
        22: [o, ids["▁días"]],                            # <other> closes the previous segment
        30: [ids["▁morning"]], 60: [s], 61: [ids["▁t"]],  # last segment closed by the end
    })
    mt = FakeMT(delay=0.02)
    dec = CascadeDecoder(streamer, mt, chunk_seconds=0.1)
    audio = 0.05 * np.random.default_rng(0).standard_normal(int(2.6 * 16000)).astype("float32")
    res = dec.decode_utterance(audio)

    assert res.asr_text == "<self> ho ca a <other> días morning <self> t"
    assert [g.reason for g in res.segments] == ["endpoint", "tag", "endpoint", "end"]
    assert mt.calls == ["<self> ho ca", "<self> a", "<other> días morning", "<self> t"]
    # the continuation keeps one tag per speaker turn in the ST stream
    assert res.st_text == "<self> xho xca xa <other> xdías xmorning <self> xt"
    assert [p.piece for p in res.st_events][:3] == ["<self>", "▁xho", "▁xca"]
    # the tag-closed segment is translated at the tag's emission time
    tag_t = next(e.t for e in res.asr_events if e.piece == "<other>")
    assert res.segments[1].t == tag_t
    assert res.segments[3].t == pytest.approx(res.audio_seconds)
    check_order(res, 0.3, CHUNK)
    # computation-aware: MT compute shows in the walls, and in later ASR tokens' walls
    for k, seg in enumerate(res.segments):
        assert seg.wall - seg.t >= 0.02 * (k + 1) - 1e-6
    last = res.asr_events[-1]
    assert last.wall - last.t >= 0.02 * 3 - 1e-6
    assert res.compute_seconds == pytest.approx(res.asr_seconds + res.mt_seconds)
    assert res.mt_seconds >= 0.08


def test_mt_dropping_the_tag_gets_it_back(tiny):
    model, args = tiny
    streamer = streamer_for(model, args)
    ids = {p: i for i, p in enumerate(streamer.asr_tokens.converter.token_list)}
    streamer.asr_search = ScriptedSearch({1: [ids["<other>"], ids["▁a"]]})
    res = CascadeDecoder(streamer, FakeMT(drop_tag=True)).decode_utterance(
        np.zeros(8000, dtype="float32"))
    assert res.st_text == "<other> xa" and res.segments[0].reason == "end"


@pytest.mark.parametrize("seed", range(4))
def test_random_scripts_keep_the_invariants(tiny, seed):
    """Random emissions (words and tags at random frames) through the real streamer."""
    model, args = tiny
    streamer = streamer_for(model, args, endpoint_seconds=0.25)
    toks = streamer.asr_tokens.converter.token_list
    pool = [i for i, p in enumerate(toks) if p in SPEAKER_TAGS or (
        p.startswith("▁") and len(p) > 1)]
    rng = np.random.default_rng(seed)
    script = {f: list(rng.choice(pool, size=rng.integers(1, 3)))
              for f in range(60) if rng.random() < 0.15}
    streamer.asr_search = ScriptedSearch(script)
    mt = FakeMT()
    res = CascadeDecoder(streamer, mt).decode_utterance(
        np.zeros(int(2.5 * 16000), dtype="float32"))
    check_order(res, 0.25, CHUNK)
    assert len(mt.calls) == len(res.segments)


def test_random_model_orders_and_st_search_off(tiny):
    """A random-init model: whatever it emits, the invariants hold; the ST head is unused."""
    model, args = tiny
    streamer = streamer_for(model, args, endpoint_seconds=0.2)
    dec = CascadeDecoder(streamer, FakeMT())
    assert streamer.st_search is not dec.asr.st_search  # the caller's streamer is untouched
    audio = 0.1 * np.random.default_rng(1).standard_normal(40000).astype("float32")
    res = dec.decode_utterance(audio)
    check_order(res, 0.2, CHUNK)
    rec = res.to_json()
    assert rec["audio_seconds"] == pytest.approx(2.5) and rec["threads"] >= 1
    assert [p["piece"] for p in rec["asr"]] == res.asr_tokens
    assert text_to_pieces("<self>hola amigo") == ["<self>", "▁hola", "▁amigo"]


def test_with_mt_translator_pieces(tiny, mt_files):
    """The real MTTranslator (tiny, random init): its target pieces become the ST pieces."""
    from espnet2_jstar.decoding.mt_translate import MTTranslator

    model, args = tiny
    mt = MTTranslator(*map(str, mt_files))
    streamer = streamer_for(model, args, endpoint_seconds=0.3)
    ids = {p: i for i, p in enumerate(streamer.asr_tokens.converter.token_list)}
    streamer.asr_search = ScriptedSearch({2: [ids["<self>"], ids["▁ho"]], 4: [ids["▁ca"]],
                                          20: [ids["▁a"]], 30: [ids["<other>"], ids["▁t"]]})
    res = CascadeDecoder(streamer, mt).decode_utterance(np.zeros(32000, dtype="float32"))
    assert [g.src for g in res.segments] == ["<self> ho ca", "<self> a", "<other> t"]
    first = mt.translate_full("<self> ho ca")
    n = len(first.tokens)
    assert [e.piece for e in res.st_events[:n]] == first.tokens
    assert res.st_text.startswith(first.text)
    assert [w for w in res.st_text.split() if w in SPEAKER_TAGS] == ["<self>", "<other>"]
    check_order(res, 0.3, CHUNK)


def _write_segments(toy: Path):
    """segments.jsonl for the toy data (even split of each utterance among its segments)."""
    import soundfile

    src = dict(line.rstrip("\n").split(maxsplit=1) for line in open(toy / "src_text"))
    wavs = dict(line.split() for line in open(toy / "wav.scp"))
    lines = []
    for uid, text in src.items():
        segs = split_sot(text)
        d = soundfile.info(wavs[uid]).duration / len(segs)
        lines.append(json.dumps({"utt_id": uid, "segments": [
            {"speaker": spk, "lang": "en", "start": k * d, "end": (k + 1) * d, "src": t}
            for k, (spk, t) in enumerate(segs)]}))
    (toy / "segments.jsonl").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("beam", [1, 2])
def test_cli_writes_a_scorable_decode_dir(toy, tiny, mt_files, tmp_path, monkeypatch, beam):
    """Greedy, and beam search on both ASR and MT (--beam_size, --mt_beam_size)."""
    from espnet2_jstar.bin import cascade_inference

    built = []
    build = cascade_inference.build_translator
    monkeypatch.setattr(cascade_inference, "build_translator",
                        lambda *a: built.append(build(*a)) or built[-1])
    streamers = []
    cascade = cascade_inference.CascadeDecoder
    monkeypatch.setattr(cascade_inference, "CascadeDecoder",
                        lambda s, *a, **k: streamers.append(s) or cascade(s, *a, **k))
    model, args = tiny
    exp = tmp_path / "asr"
    exp.mkdir()
    with open(exp / "config.yaml", "w") as f:
        yaml.safe_dump(vars(args), f)
    torch.save(model.state_dict(), exp / "model.pth")
    out = tmp_path / "decode"
    cascade_inference.main([
        "--asr_train_config", str(exp / "config.yaml"), "--asr_model_file", str(exp / "model.pth"),
        "--mt_train_config", str(mt_files[0]), "--mt_model_file", str(mt_files[1]),
        "--data_path_and_name_and_type", f"{toy}/wav.scp,speech,sound",
        "--output_dir", str(out), "--endpoint_seconds", "0.4",
        "--beam_size", str(beam), "--mt_beam_size", str(beam), "--mt_blank_penalty", str(beam),
        "--asr_blank_penalty", "0.5"])
    assert [t.search.beam_size for t in built] == [beam]
    assert built[0].search.joint.penalty == beam   # BlankPenaltyJoint around the MT's joiner
    assert streamers[0].asr_search.joint.penalty == 0.5
    for f in ("asr/text", "asr/token", "asr/token_int", "st/text", "st/token", "tokens.jsonl",
              "mt_segments.jsonl"):
        assert (out / f).is_file(), f
    recs = [json.loads(line) for line in open(out / "tokens.jsonl")]
    assert [r["utt_id"] for r in recs] == ["utt000", "utt001", "utt002"]
    for r in recs:
        assert r["threads"] == 1 and r["compute_seconds"] > 0
        assert all(p["wall"] >= p["t"] for p in r["asr"] + r["st"])
    _write_segments(toy)
    scores = score_decode_dir(out, toy)
    assert scores["utts"] == 3 and scores["asr"] is not None and scores["st"] is not None
    assert scores["rtf"] is not None
    # tokens.jsonl and asr/text tell the same words (not checked for st: a random MT emits
    # <unk>, which the detokeniser writes as a word of its own, " ⁇ ")
    assert scores["asr"]["latency"]["token_text_mismatch_utts"] == 0
    assert scores["st"]["latency"]["segments"] > 0
