"""TransducerSearch: the blank penalty (greedy and ESPnet beam search) and for_head."""

import pytest
import torch

from espnet2.asr_transducer.decoder.rnn_decoder import RNNDecoder
from espnet2.asr_transducer.joint_network import JointNetwork
from espnet2_jstar.decoding.search import BlankPenaltyJoint, TransducerSearch

V, D_ENC, T = 7, 6, 5


@pytest.fixture
def head():
    torch.manual_seed(0)
    dec = RNNDecoder(V, embed_size=8, hidden_size=8).eval()
    joint = JointNetwork(V, D_ENC, 8, joint_space_size=8).eval()
    return dec, joint, torch.randn(T, D_ENC)


def test_penalty_lowers_only_the_blank_logit(head):
    _, joint, enc = head
    dec_out = torch.randn(T, 8)
    wrapped = BlankPenaltyJoint(joint, blank_id=0, penalty=1.5)
    diff = joint(enc, dec_out) - wrapped(enc, dec_out)
    assert torch.allclose(diff[:, 0], torch.full((T,), 1.5))
    assert torch.all(diff[:, 1:] == 0)
    # the projected path (greedy search calls lin_enc / lin_dec itself) agrees
    pdiff = (joint(joint.lin_enc(enc), joint.lin_dec(dec_out), no_projection=True)
             - wrapped(wrapped.lin_enc(enc), wrapped.lin_dec(dec_out), no_projection=True))
    assert torch.allclose(pdiff, diff)


def run(head, beam, penalty, max_sym=2):
    dec, joint, enc = head
    search = TransducerSearch(dec, joint, beam_size=beam, max_sym_per_frame=max_sym,
                              blank_penalty=penalty)
    state = search.init_state()
    search.step(enc[:2], state)
    search.step(enc[2:], state, final=True)
    return state.tokens


def test_penalty_extremes_force_or_suppress_greedy_output(head):
    assert run(head, 1, -1e4) == []
    tokens = run(head, 1, 1e4)
    assert len(tokens) == T * 2 and 0 not in tokens  # every frame emits its maximum


def test_beam_search_gets_the_penalty(head):
    dec, joint, enc = head
    search = TransducerSearch(dec, joint, beam_size=3, blank_penalty=2.0)
    beam = search.init_state().beam
    assert isinstance(beam.joint_network, BlankPenaltyJoint)
    assert beam.joint_network.penalty == 2.0 and beam.joint_network.joint is joint
    assert run(head, 3, -1e4) == []


@pytest.mark.parametrize("beam", [1, 3])
def test_zero_penalty_keeps_the_plain_joiner(head, beam):
    dec, joint, _ = head
    assert TransducerSearch(dec, joint, beam_size=beam).joint is joint


def test_penalty_increases_greedy_output(head):
    counts = [len(run(head, 1, p, max_sym=3)) for p in (-2.0, 0.0, 2.0, 6.0)]
    assert counts == sorted(counts) and counts[-1] > counts[0]


def test_for_head_reads_the_heads_predictor_and_joiner(head):
    dec, joint, _ = head
    model_head = torch.nn.Module()
    model_head.decoder, model_head.joint_network = dec, joint
    search = TransducerSearch.for_head(model_head, beam_size=3, max_sym_per_frame=2,
                                       blank_penalty=1.0)
    assert search.decoder is dec and search.joint.joint is joint
    assert (search.beam_size, search.max_sym, search.joint.penalty) == (3, 2, 1.0)
