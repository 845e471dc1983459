"""``jstar_inference --{fast,slow}_chunk_size``: the chunk override of a trained encoder."""

import pytest
import torch

from espnet2_jstar.bin.jstar_inference import set_decoding_chunk
from espnet2_jstar.encoders.emformer import EmformerEncoder

from jstar_testutil import LIN2, tiny_conformer


def conformer(chunk=3, left=2):
    return tiny_conformer(LIN2, num_blocks=1, conv_mod_kernel_size=3, chunk_size=chunk,
                          num_left_chunks=left)


@pytest.mark.parametrize("chunk,left", [(1, 6), (4, 2), (6, 1), (8, 1)])
def test_left_context_keeps_at_least_the_trained_frames(chunk, left):
    enc = conformer(chunk=3, left=2)  # 6 frames of left context
    set_decoding_chunk(enc, chunk, "--slow_chunk_size")
    assert (enc.chunk_size, enc.num_left_chunks) == (chunk, left)


def test_the_override_changes_what_the_encoder_computes():
    x, lens = torch.randn(1, 40, 12), torch.tensor([40])
    ref = conformer(chunk=3)
    out3 = ref(x, lens)[0]
    enc = conformer(chunk=3)
    set_decoding_chunk(enc, 8, "--slow_chunk_size")
    out8 = enc(x, lens)[0]
    assert torch.allclose(out8, conformer(chunk=8, left=1)(x, lens)[0], atol=1e-6)
    assert not torch.allclose(out8, out3, atol=1e-4)


def test_no_chunk_or_no_encoder_is_a_no_op():
    enc = conformer()
    set_decoding_chunk(enc, None, "--slow_chunk_size")
    assert (enc.chunk_size, enc.num_left_chunks) == (3, 2)
    set_decoding_chunk(None, 8, "--slow_chunk_size")  # e.g. the fast_st ablation


def test_bad_chunk_and_fixed_chunk_encoder_are_refused():
    with pytest.raises(ValueError, match="--slow_chunk_size 0: a chunk must be at least 1"):
        set_decoding_chunk(conformer(), 0, "--slow_chunk_size")
    emf = EmformerEncoder(12, hidden_size=16, linear_size=32, num_blocks=1, heads=2,
                          segment_length=4, left_context_length=8, right_context_length=0,
                          dropout_rate=0.0, input_conf=LIN2)
    with pytest.raises(ValueError, match=r"--fast_chunk_size 8: EmformerEncoder fixes its chunk"):
        set_decoding_chunk(emf, 8, "--fast_chunk_size")
