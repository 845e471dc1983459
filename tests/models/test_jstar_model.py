"""JSTARModel: shapes, finite per-branch losses, overfitting, decoding of both streams."""

import pytest
import torch

from espnet2_jstar.decoding.batch import JSTARSpeech2Text
from espnet2_jstar.decoding.streamer import JSTARStreamer
from espnet2_jstar.decoding.text import TokenDecoder
from jstar_testutil import build_tiny, load_batch, overfit
from toydata import make_toy_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy"), n=4)


def test_shapes_and_finite_losses(toy):
    model, args = build_tiny(toy)
    _, batch, _, _ = load_batch(toy, args)
    model.eval()
    with torch.no_grad():
        fast, fl, slow, sl = model.encode(batch["speech"], batch["speech_lengths"])
        loss, stats, weight = model(**batch)
    B = batch["speech"].size(0)
    assert fast.shape[0] == slow.shape[0] == B and fast.shape[2] == slow.shape[2] == 48
    assert fl.max() == fast.size(1) and sl.max() == slow.size(1)
    assert torch.isfinite(loss) and int(weight) == B
    for k in ("loss", "loss_asr", "loss_st"):
        assert torch.isfinite(stats[k])
    torch.testing.assert_close(stats["loss"], 0.5 * stats["loss_asr"] + 0.5 * stats["loss_st"])


def test_asr_weight_and_ctc(toy):
    model, args = build_tiny(toy, ["--model_conf", "asr_weight=0.8", "--asr_ctc_weight", "0.3",
                                   "--st_ctc_weight", "0.3"])
    _, batch, _, _ = load_batch(toy, args)
    loss, stats, _ = model(**batch)
    assert "asr_ctc" in stats and "st_ctc" in stats
    torch.testing.assert_close(stats["loss"], 0.8 * stats["loss_asr"] + 0.2 * stats["loss_st"])
    loss.backward()
    assert model.asr_head.ctc.ctc_lo.weight.grad is not None


def test_no_slow_encoder_ablation(toy):
    model, args = build_tiny(toy, ["--slow_encoder", "none"])
    assert model.slow_encoder is None
    _, batch, _, _ = load_batch(toy, args)
    loss, _, _ = model(**batch)
    assert torch.isfinite(loss)


@pytest.mark.parametrize("loss_name", ["torchaudio", "pruned"])
def test_overfit_and_decode_both_streams(toy, loss_name):
    """A tiny model memorises 4 utterances until greedy decoding of both streams gives back
    the targets; beam search agrees, and real streaming gives exactly the chunked batch
    decoder's tokens."""
    extra = ["--asr_loss", loss_name, "--st_loss", loss_name]
    if loss_name == "pruned":
        extra += ["--asr_loss_conf", "{prune_range: 4, warmup_steps: 50}",
                  "--st_loss_conf", "{prune_range: 4, warmup_steps: 50}"]
    model, args = build_tiny(toy, extra)
    keys, batch, wavs, items = load_batch(toy, args)
    asr_tok = TokenDecoder.from_train_args(args, "asr")
    st_tok = TokenDecoder.from_train_args(args, "st")
    refs = {name: dict(line.strip().split(maxsplit=1)
                       for line in open(toy / name, encoding="utf-8"))
            for name in ("src_text", "text")}
    greedy = JSTARSpeech2Text(model, asr_tok, st_tok, beam_size=1, max_sym_per_frame=10)

    def all_correct():
        outs = {u: greedy(wavs[u]) for u in keys}
        return all(outs[u]["asr"].text == refs["src_text"][u]
                   and outs[u]["st"].text == refs["text"][u] for u in keys)

    steps = overfit(model, batch, steps=1600, until=all_correct)
    assert all_correct(), f"greedy decoding did not reproduce the targets in {steps} steps"
    beam = JSTARSpeech2Text(model, asr_tok, st_tok, beam_size=3)
    streamer = JSTARStreamer(model, asr_tok, st_tok, max_sym_per_frame=10)
    for uid in keys:
        g, b = greedy(wavs[uid]), beam(wavs[uid])
        assert b["asr"].text == refs["src_text"][uid] and b["st"].text == refs["text"][uid]
        s = streamer.decode_utterance(wavs[uid], chunk_seconds=0.07)
        assert s.asr.token_int == g["asr"].token_int and s.st.token_int == g["st"].token_int
        ts = [e.t for e in s.asr_events]
        assert ts == sorted(ts) and all(e.wall >= e.t for e in s.asr_events + s.st_events)


def test_paper_scale_model_builds():
    """The paper-scale config (20 fast + 10 slow layers) builds with no code change."""
    from espnet2_jstar.tasks.jstar import JSTARTask
    import yaml

    with open("conf/tuning/train_jstar_conformer_paper.yaml") as f:
        conf = yaml.safe_load(f)
    tokens = ["<blank>", "<unk>", "<self>", "<other>"] + [f"t{i}" for i in range(996)]
    args = JSTARTask.get_parser().parse_args(["--token_list", "x"])
    for k, v in conf.items():
        setattr(args, k, v)
    args.token_list = tokens
    for k in ("frontend_conf", "specaug_conf"):
        args.__dict__.setdefault(k, {})
    for k in ("asr_ctc_weight", "st_ctc_weight"):
        setattr(args, k, 0.0)
    model = JSTARTask.build_model(args)
    n = sum(p.numel() for p in model.parameters())
    print(f"paper-scale JSTAR parameters: {n / 1e6:.1f} M")
    assert len(model.fast_encoder.encoders.blocks) == 20
    assert len(model.slow_encoder.encoders.blocks) == 10
    assert n > 100e6


def test_frozen_batch_norm_keeps_its_statistics(toy):
    """--freeze_param fast_encoder: a training step leaves every fast-encoder tensor as it
    was, running statistics of its convolution modules' batch norms included; the slow
    encoder's batch norms (not frozen) go on updating."""
    model, args = build_tiny(toy)
    _, batch, _, _ = load_batch(toy, args)
    bns = [n for n, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert any(n.startswith("fast_encoder.") for n in bns)
    assert any(n.startswith("slow_encoder.") for n in bns)
    for n, p in model.named_parameters():
        if n.startswith("fast_encoder."):
            p.requires_grad = False
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(**batch)[0].backward()
    opt.step()
    after = model.state_dict()
    for k, v in before.items():
        if k.startswith("fast_encoder."):
            assert torch.equal(v, after[k]), k
    slow_stats = [k for k in before if k.startswith("slow_encoder.") and "running_mean" in k]
    assert slow_stats and any(not torch.equal(before[k], after[k]) for k in slow_stats)
    model.eval()
    assert not model.training and not model.fast_encoder.training
