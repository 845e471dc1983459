"""Streaming encoders: chunk-by-chunk outputs equal whole-utterance outputs under the same
chunk mask; lengths; bounded state; dynamic chunk training."""

import pytest
import torch

from espnet2_jstar.encoders.abs_encoder import chunk_attention_mask
from espnet2_jstar.encoders.emformer import EmformerEncoder
from espnet2.asr_transducer.utils import make_chunk_mask

from jstar_testutil import CONV, LIN2
from jstar_testutil import tiny_conformer as conformer


def stream(enc, x, pieces):
    st = enc.init_state()
    outs, i = [], 0
    for n in pieces:
        o, st = enc.forward_chunk(x[:, i:i + n], st, final=False)
        outs.append(o)
        i += n
    o, st = enc.forward_chunk(x[:, i:], st, final=True)
    outs.append(o)
    return torch.cat(outs, 1), st


@pytest.mark.parametrize("inp", [CONV, LIN2])
@pytest.mark.parametrize("T", [57, 64, 101])
def test_conformer_streaming_equals_chunk_masked_full(inp, T):
    enc = conformer(inp)
    x = torch.randn(1, T, 12)
    with torch.no_grad():
        y, lens = enc(x, torch.tensor([T]))
        ys, _ = stream(enc, x, [1, 7, 3, 20])
    assert int(lens) == y.size(1) == ys.size(1)
    torch.testing.assert_close(ys, y, atol=1e-5, rtol=1e-5)


def test_chunk_mask_changes_output():
    """The equality above is not vacuous: full context differs from the chunk mask."""
    enc = conformer()
    x = torch.randn(1, 80, 12)
    with torch.no_grad():
        y_chunk, _ = enc(x, torch.tensor([80]))
        enc.chunk_size, enc.num_left_chunks = 0, 0
        y_full, _ = enc(x, torch.tensor([80]))
    assert (y_chunk - y_full).abs().max() > 1e-3


def test_emformer_streaming_equals_full():
    torch.manual_seed(0)
    enc = EmformerEncoder(12, hidden_size=16, linear_size=32, num_blocks=2, heads=2,
                          segment_length=4, left_context_length=8, right_context_length=2,
                          dropout_rate=0.0, input_conf=CONV).eval()
    T = 4 * 4 * 5 + 3
    x = torch.randn(1, T, 12)
    with torch.no_grad():
        y, _ = enc(x, torch.tensor([T]))
        ys, _ = stream(enc, x, [5, 13, 40])
    torch.testing.assert_close(ys[:, : y.size(1)], y, atol=1e-5, rtol=1e-5)


def test_lengths_in_batch():
    enc = conformer()
    x = torch.randn(2, 90, 12)
    with torch.no_grad():
        y, lens = enc(x, torch.tensor([90, 50]))
        y1, l1 = enc(x[1:, :50], torch.tensor([50]))
    assert lens.tolist() == [enc.output_lengths(torch.tensor(90)).item(), l1.item()]
    torch.testing.assert_close(y[1:, : l1.item()], y1, atol=1e-5, rtol=1e-5)


def test_state_stays_bounded():
    enc = conformer()
    st = enc.init_state()
    sizes = []
    with torch.no_grad():
        for _ in range(60):
            _, st = enc.forward_chunk(torch.randn(1, 12, 12), st)
            sizes.append(st.num_cached_elements())
    assert max(sizes[10:]) == min(sizes[10:])


def test_vectorised_chunk_mask_matches_espnet():
    for size, cs, nl in [(17, 4, 2), (20, 5, 0), (9, 3, 1)]:
        assert torch.equal(chunk_attention_mask(size, cs, nl), make_chunk_mask(size, cs, nl))


def test_dynamic_chunk_training_samples_range():
    enc = conformer(chunk_range=(2, 5), full_context_prob=0.0).train()
    seen = {enc._training_chunk()[0] for _ in range(200)}
    assert seen <= set(range(2, 6)) and len(seen) >= 3


def test_streaming_requires_bounded_left_context():
    with pytest.raises(ValueError, match="num_left_chunks"):
        conformer(num_left_chunks=0).init_state()
