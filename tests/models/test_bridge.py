"""CTC bridge (bridge: ctc_embed): MT-space input for the slow encoder, trained end to end,
initialised from the MT model, and streamed chunk by chunk like the rest of JSTAR."""

import pytest
import torch

from espnet2_jstar.decoding.batch import JSTARSpeech2Text
from espnet2_jstar.decoding.streamer import JSTARStreamer
from espnet2_jstar.decoding.text import TokenDecoder
from espnet2_jstar.models.bridge import CTCEmbeddingBridge
from espnet2_jstar.models.mt_init import init_from_mt
from espnet2_jstar.tasks.mt import MTTask
from jstar_testutil import TINY_ENC, build_tiny, load_batch, overfit
from toydata import make_toy_dataset

BRIDGE = ["--bridge", "ctc_embed", "--asr_ctc_weight", "0.3"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy"), n=2)


def test_one_hot_posterior_gives_the_mt_models_input(toy):
    """A frame whose CTC posterior is (nearly) one-hot for token c gets the MT model's
    normalised embedding of c, i.e. what the MT-trained slow encoder read for c."""
    torch.manual_seed(0)
    bridge = CTCEmbeddingBridge(src_vocab_size=7, embed_size=8)
    ids = torch.tensor([[3, 1, 6, 6]])
    logits = torch.nn.functional.one_hot(ids, 7).float() * 60.0
    out = bridge(torch.randn(1, 4, 8), logits)
    want = bridge.src_norm(bridge.src_embed(ids))
    torch.testing.assert_close(out, want, atol=1e-5, rtol=1e-5)
    res = CTCEmbeddingBridge(7, 8, residual=True)
    res.load_state_dict(bridge.state_dict())
    fast = torch.randn(1, 4, 8)
    torch.testing.assert_close(res(fast, logits), want + fast, atol=1e-5, rtol=1e-5)
    # a flat posterior mixes all rows: not any single token's embedding
    flat = bridge(fast, torch.zeros(1, 4, 7))
    assert not torch.allclose(flat[0, 0], want[0, 0], atol=1e-2)


def test_bad_configuration_errors(toy):
    with pytest.raises(ValueError, match="temperature"):
        CTCEmbeddingBridge(7, 8, temperature=0.0)
    with pytest.raises(ValueError, match="CTC has 5 outputs.*7 rows"):
        CTCEmbeddingBridge(7, 8)(torch.zeros(1, 2, 8), torch.zeros(1, 2, 5))
    with pytest.raises(ValueError, match="asr_ctc_weight"):
        build_tiny(toy, ["--bridge", "ctc_embed"])
    with pytest.raises(ValueError, match="slow encoder"):
        build_tiny(toy, [*BRIDGE, "--slow_encoder", "none"])


def test_st_loss_reaches_the_fast_encoder_through_the_posteriors(toy):
    """With λ = 0 (ST loss only), the ASR CTC layer still gets a gradient: through the
    bridge. Without the bridge it gets none."""
    for extra, wants_grad in ((BRIDGE, True), (["--asr_ctc_weight", "0.3"], False)):
        model, args = build_tiny(toy, [*extra, "--model_conf", "asr_weight=0.0"])
        _, batch, _, _ = load_batch(toy, args)
        loss, stats, _ = model(**batch)
        assert torch.isfinite(loss) and "loss_st" in stats
        loss.backward()
        grad = model.asr_head.ctc.ctc_lo.weight.grad
        assert (grad is not None and grad.abs().sum() > 0) == wants_grad
        if wants_grad:
            assert model.bridge.src_embed.weight.grad.abs().sum() > 0


def test_mt_init_loads_the_source_embedding_into_the_bridge(toy):
    model, args = build_tiny(toy, BRIDGE)
    margs = MTTask.get_parser().parse_args([
        "--token_list", str(toy / "bpe/tokens.txt"), "--bpemodel", str(toy / "bpe/bpe.model"),
        "--embed_size", "48",
        "--slow_encoder_conf",
        TINY_ENC.format(n=1, inp="{block_type: linear, subsampling_factor: 1}"),
        "--st_decoder_conf", "{embed_size: 32, hidden_size: 48}",
        "--st_joint_network_conf", "{joint_space_size: 48}", "--output_dir", "unused"])
    torch.manual_seed(1)
    mt = MTTask.build_model(margs)
    report = init_from_mt(model, mt)
    for name in ("src_embed.weight", "src_norm.weight", "src_norm.bias"):
        assert f"bridge.{name}" in report["loaded"] and name not in report["mt_only"]
        assert torch.equal(model.state_dict()[f"bridge.{name}"], mt.state_dict()[name])
    assert report["mt_only"] == ["num_updates"]


def test_streaming_equals_chunked_batch_decoding_with_bridge(toy):
    model, args = build_tiny(toy, BRIDGE)
    keys, batch, wavs, _ = load_batch(toy, args)
    overfit(model, batch, steps=150)
    model.eval()
    at, st = TokenDecoder.from_train_args(args, "asr"), TokenDecoder.from_train_args(args, "st")
    wav = wavs[keys[0]]
    full = JSTARSpeech2Text(model, at, st, beam_size=1)(wav)
    assert full["asr"].token_int and full["st"].token_int
    for piece in (0.013, 0.5):
        res = JSTARStreamer(model, at, st).decode_utterance(wav, piece)
        assert res.asr.token_int == full["asr"].token_int
        assert res.st.token_int == full["st"].token_int
