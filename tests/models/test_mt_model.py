"""MTTransducerModel / MTTask.build_model / MTTranslator on a tiny model and toy text pairs."""

import random

import pytest
import torch

from espnet2_jstar.bin.jstar_tokenizer import train_tokenizer
from espnet2_jstar.decoding.mt_translate import MTTranslator, split_tagged
from espnet2_jstar.tasks.mt import MTTask
from toydata import PAIRS

TINY_SLOW = ("{hidden_size: 32, linear_size: 64, num_blocks: 1, heads: 2, "
             "conv_mod_kernel_size: 3, dropout_rate: 0.0, chunk_size: 4, num_left_chunks: 2, "
             "chunk_range: [2, 6], input_conf: {block_type: linear, subsampling_factor: 2}}")


@pytest.fixture(scope="module")
def bpe(tmp_path_factory):
    root = tmp_path_factory.mktemp("mtbpe")
    texts = [p for pair in PAIRS for p in pair]
    return train_tokenizer(texts * 3, str(root / "bpe"), vocab_size=60)


def tiny_mt_args(bpe, extra=()):
    return MTTask.get_parser().parse_args([
        "--token_list", str(bpe / "tokens.txt"), "--bpemodel", str(bpe / "bpe.model"),
        "--slow_encoder_conf", TINY_SLOW,
        "--st_decoder_conf", "{embed_size: 32, hidden_size: 32}",
        "--st_joint_network_conf", "{joint_space_size: 32}",
        "--embed_dropout", "0", "--output_dir", "unused", *extra,
    ])


def make_batch(args, pairs, train=True):
    pre = MTTask.build_preprocess_fn(args, train=train)
    items = [(f"u{i}", pre(f"u{i}", {"src_text": s, "text": t})) for i, (s, t) in enumerate(pairs)]
    return MTTask.build_collate_fn(args, train)(items)[1]


def test_parameter_names_match_jstar_and_shapes(bpe):
    args = tiny_mt_args(bpe, ["--repeat", "3"])
    model = MTTask.build_model(args)
    names = {n.split(".")[0] for n, _ in model.named_parameters()}
    assert names == {"src_embed", "src_norm", "slow_encoder", "st_head"}
    assert model.embed_size == 32 and model.repeat == 3
    batch = make_batch(args, PAIRS[:3])
    x, x_lens = model.embed(batch["src_text"], batch["src_text_lengths"])
    assert x.shape == (3, batch["src_text"].size(1) * 3, 32)
    assert torch.equal(x_lens, batch["src_text_lengths"] * 3)
    assert torch.equal(x[0, 0], x[0, 2]) and not torch.equal(x[0, 2], x[0, 3])
    enc, enc_lens = model.encode(batch["src_text"], batch["src_text_lengths"])
    assert torch.equal(enc_lens, (batch["src_text_lengths"] * 3) // 2)
    loss, stats, weight = model(**batch)
    assert torch.isfinite(loss) and int(weight) == 3
    assert {"loss", "loss_st", "st_rnnt"} <= set(stats)


def test_encoder_runs_with_its_chunk_mask(bpe):
    """Eval: an encoder frame depends only on its chunk and the left ones (as streaming)."""
    model = MTTask.build_model(tiny_mt_args(bpe)).eval()
    torch.manual_seed(0)
    src = torch.randint(2, 50, (1, 20))
    longer = torch.cat([src, torch.randint(2, 50, (1, 12))], dim=1)
    with torch.no_grad():
        a, _ = model.encode(src, torch.tensor([20]))
        b, _ = model.encode(longer, torch.tensor([32]))
    # 20 tokens x repeat 2 / stack 2 = 20 frames; chunks of 4 -> frames 0..19 are complete
    torch.testing.assert_close(a[0], b[0, :20], rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        changed = longer.clone()
        changed[0, 10] = 51  # frame 10 is in chunk 2 (frames 8..11)
        c, _ = model.encode(changed, torch.tensor([32]))
    torch.testing.assert_close(b[0, :8], c[0, :8], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(b[0, 8:12], c[0, 8:12])


def test_too_short_source_names_it(bpe):
    args = tiny_mt_args(bpe, ["--repeat", "1"])
    model = MTTask.build_model(args)
    batch = {"src_text": torch.tensor([[5]]), "src_text_lengths": torch.tensor([1]),
             "text": torch.tensor([[5, 6]]), "text_lengths": torch.tensor([2]),
             "utt_id": ["utt_short"]}
    with pytest.raises(ValueError, match="utt_short.*--repeat"):
        model(**batch)


def test_overfit_then_greedy_translation_reproduces_targets(bpe):
    torch.manual_seed(0)
    random.seed(0)
    args = tiny_mt_args(bpe, ["--st_loss", "torchaudio"])
    model = MTTask.build_model(args)
    batch = make_batch(args, PAIRS)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    model.train()
    for _ in range(300):
        loss, _, _ = model(**batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    mt = MTTranslator(model=model, train_args=args)
    hyps = [mt.translate(src) for src, _ in PAIRS]
    assert hyps == [tgt for _, tgt in PAIRS]
    # ids path and the pieces written by mt_inference agree with the text
    res = mt.translate_full(PAIRS[1][0])
    assert mt.tgt.ids2text(res.token_int) == PAIRS[1][1]
    assert res.tokens == mt.tgt.ids2tokens(res.token_int)
    assert mt.translate_ids(res.src_token_int[0]) and mt.translate("") == ""
    # beam search finds the same translations on a memorised pair
    beam = MTTranslator(model=model, train_args=args, beam_size=3)
    assert beam.translate(PAIRS[4][0]) == PAIRS[4][1]


def test_tags_are_kept_and_relabelled(bpe):
    """Whatever the model emits, the output carries the input's tags in order."""
    args = tiny_mt_args(bpe)
    mt = MTTranslator(model=MTTask.build_model(args), train_args=args, segments="split")
    out = mt.translate("<self> where is the river")
    assert out.split()[0] == "<self>" and out.count("<") == 1
    out = mt.translate("<other> hola <self> gracias")
    assert [w for w in out.split() if w.startswith("<")] == ["<other>", "<self>"]
    assert "<" not in mt.translate("hola amigo")
    # whole mode: the model's tags are mapped onto the input's, or it falls back to split
    whole = MTTranslator(model=mt.model, train_args=args)
    self_id, other_id = (whole.model.token_list.index(t) for t in ("<self>", "<other>"))
    in_segs = split_tagged("<self> a b <other> c")
    assert whole._relabel([other_id, 7, 8, self_id, 9], in_segs) == [
        ("<self>", [7, 8]), ("<other>", [9])]
    assert whole._relabel([self_id, 7, 8], in_segs) is None
    assert whole._relabel([7, self_id, 8], in_segs) is None
    assert whole._relabel([7, other_id, 8], [("<self>", "x")]) == [("<self>", [7, 8])]
    out = whole.translate("<self> where is the river <other> aquí")
    assert [w for w in out.split() if w.startswith("<")] == ["<self>", "<other>"]


def test_split_tagged():
    assert split_tagged("<self> a  b <other> c") == [("<self>", "a b"), ("<other>", "c")]
    assert split_tagged("x y <self>") == [(None, "x y"), ("<self>", "")]
    assert split_tagged("  ") == []


def test_insert_blanks_keeps_tokens_in_order():
    from espnet2_jstar.models.mt_model import insert_blanks

    ids = torch.tensor([[5, 6, 7], [8, 9, -1]]).clamp(min=0)
    lens = torch.tensor([3, 2])
    out, out_lens = insert_blanks(ids, lens, 2, random=False)  # one blank after each
    assert out.tolist() == [[5, 0, 6, 0, 7, 0], [8, 0, 9, 0, 0, 0]]
    assert out_lens.tolist() == [6, 4]
    torch.manual_seed(0)
    for _ in range(20):
        out, out_lens = insert_blanks(ids, lens, 3, random=True)
        for b in range(2):
            row = out[b, : out_lens[b]].tolist()
            assert row[0] != 0 and [t for t in row if t] == ids[b, : lens[b]].tolist()
            # runs of blanks after each token have 0..3 elements
            runs = "".join("x" if t else "." for t in row).split("x")[1:]
            assert all(len(r) <= 3 for r in runs)
            assert bool((out[b, out_lens[b]:] == 0).all())
    seen = {int(insert_blanks(ids, lens, 3, random=True)[1][0]) for _ in range(50)}
    assert len(seen) > 3  # random counts, between 3 and 12


def test_src_blanks_model_trains_and_decodes(bpe):
    args = tiny_mt_args(bpe, ["--repeat", "1", "--src_blanks", "2"])
    model = MTTask.build_model(args)
    assert model.src_blanks == 2
    batch = make_batch(args, PAIRS[:3])
    model.eval()
    x, x_lens = model.embed(batch["src_text"], batch["src_text_lengths"])
    assert torch.equal(x_lens, batch["src_text_lengths"] * 2)  # one blank each in eval
    model.train()
    loss, stats, _ = model(**batch)
    assert torch.isfinite(loss)
    with pytest.raises(ValueError, match="src_blanks"):
        MTTask.build_model(tiny_mt_args(bpe, ["--src_blanks", "-1"]))


def test_substitute_tokens_rate_and_range():
    from espnet2_jstar.models.mt_model import substitute_tokens

    torch.manual_seed(0)
    ids = torch.randint(2, 9, (64, 50))
    lens = torch.randint(1, 51, (64,))
    out = substitute_tokens(ids, lens, 0.3, vocab_size=10)
    valid = torch.arange(50)[None, :] < lens[:, None]
    assert torch.equal(out[~valid], ids[~valid])  # padding untouched
    changed = (out != ids) & valid
    # a draw may land on the same token (1 in 7 here): expected rate 0.3 * 6 / 7 = 0.257
    assert 0.22 < changed.sum() / valid.sum() < 0.29
    assert int(out[valid].min()) >= 2 and int(out[valid].max()) <= 8  # no blank/unk/eos
    assert substitute_tokens(ids, lens, 0.0, 10) is ids


def test_src_substitute_only_in_training(bpe):
    args = tiny_mt_args(bpe, ["--src_substitute", "0.5"])
    model = MTTask.build_model(args)
    assert model.src_substitute == 0.5
    batch = make_batch(args, PAIRS[:3])
    model.eval()
    a = model.embed(batch["src_text"], batch["src_text_lengths"])[0]
    b = model.embed(batch["src_text"], batch["src_text_lengths"])[0]
    assert torch.equal(a, b)
    model.train()
    model.embed_dropout.p = 0.0
    torch.manual_seed(1)
    c = model.embed(batch["src_text"], batch["src_text_lengths"])[0]
    assert not torch.equal(a, c)
    with pytest.raises(ValueError, match="src_substitute"):
        MTTask.build_model(tiny_mt_args(bpe, ["--src_substitute", "1.0"]))
