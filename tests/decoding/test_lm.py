"""LM shallow fusion: ESPnet LMs loaded for a head and fused by ESPnet's transducer search."""

import pytest
import torch

from espnet2.asr_transducer.decoder.stateless_decoder import StatelessDecoder
from espnet2.asr_transducer.joint_network import JointNetwork
from espnet2.lm.seq_rnn_lm import SequentialRNNLM
from espnet2_jstar.decoding.lm import LMFusion, RewardedLM, load_lm_fusion
from espnet2_jstar.decoding.search import TransducerSearch
from jstar_testutil import write_rnn_lm

TOKENS = ["<blank>", "<unk>", "a", "b", "c", "d", "<sos/eos>"]
V, D, D_ENC, T, FAVOURED = len(TOKENS), 4, 6, 6, 4


def favouring_lm(token: int) -> SequentialRNNLM:
    """An LM that gives ``token`` almost all the probability after any history."""
    lm = SequentialRNNLM(V, unit=8, nlayers=1).eval()
    with torch.no_grad():
        lm.decoder.weight.zero_()
        lm.decoder.bias.fill_(-20.0)
        lm.decoder.bias[token] = 20.0
    return lm


@pytest.fixture
def head():
    """A stateless predictor and a hand-set joiner that ignores the audio: after the start
    symbol the blank is unlikely and token "a" (id 2) is the joiner's favourite; after any
    token the blank is almost certain. So every search emits exactly one token, at the first
    frame, and that token is the one a fused LM can change (among the joiner's top k)."""
    dec = StatelessDecoder(V, embed_size=D).eval()
    joint = JointNetwork(V, D_ENC, D, joint_space_size=D).eval()
    with torch.no_grad():
        for p in joint.parameters():
            p.zero_()
        joint.lin_dec.weight.copy_(torch.eye(D))
        dec.embed.weight.zero_()
        dec.embed.weight[0, 0] = -3.0   # start symbol: blank improbable
        dec.embed.weight[1:, 0] = 3.0   # after a token: blank almost certain
        joint.lin_out.weight[0, 0] = 10.0
        joint.lin_out.bias[2] = 1.0
        joint.lin_out.bias[FAVOURED] = 0.5  # second: inside the search's top-k expansions
    return dec, joint, torch.randn(T, D_ENC)


def decode(head, lm=None, beam=3):
    dec, joint, enc = head
    search = TransducerSearch(dec, joint, beam_size=beam, lm=lm)
    state = search.init_state()
    search.step(enc[:3], state)  # two calls: the LM state rides in ESPnet's search cache
    search.step(enc[3:], state, final=True)
    return state.tokens


def test_a_heavy_lm_decides_the_tokens(head):
    assert decode(head) == [2]
    assert decode(head, LMFusion(favouring_lm(FAVOURED), weight=0.5)) == [FAVOURED]
    # a light LM does not outweigh the joiner's margin (0.5 nat against 0.01 x 40 nats)
    assert decode(head, LMFusion(favouring_lm(FAVOURED), weight=0.01)) == [2]


def test_search_gives_the_lm_to_espnet_and_refuses_greedy(head):
    dec, joint, _ = head
    fusion = LMFusion(favouring_lm(2), weight=0.25)
    beam = TransducerSearch(dec, joint, beam_size=2, lm=fusion).init_state().beam
    assert beam.use_lm and beam.lm is fusion.lm and beam.lm_weight == 0.25
    assert not TransducerSearch(dec, joint, beam_size=2).init_state().beam.use_lm
    with pytest.raises(ValueError, match="beam_size > 1"):
        TransducerSearch(dec, joint, beam_size=1, lm=fusion)


@pytest.fixture
def lm_files(tmp_path):
    return write_rnn_lm(tmp_path, TOKENS)


def test_load_checks_the_token_list(lm_files):
    config, pth = lm_files
    fusion = load_lm_fusion(str(config), str(pth), 0.4, TOKENS, "asr")
    assert isinstance(fusion.lm, SequentialRNNLM) and fusion.weight == 0.4
    other = TOKENS[:3] + ["x"] + TOKENS[4:]
    with pytest.raises(ValueError, match=r"lm\.pth.*asr head.*entry 3: 'b' against 'x'"):
        load_lm_fusion(str(config), str(pth), 0.4, other, "asr")
    with pytest.raises(ValueError, match=r"st head.*\(6\)"):
        load_lm_fusion(str(config), str(pth), 0.4, TOKENS[:-1], "st")


def test_load_without_a_file_or_with_a_bad_weight(lm_files):
    config, pth = lm_files
    assert load_lm_fusion(None, None, 0.3, TOKENS, "asr") is None
    with pytest.raises(ValueError, match="--st_lm_weight must be > 0"):
        load_lm_fusion(str(config), str(pth), 0.0, TOKENS, "st")
    # built directly, too: a zero weight would divide the token reward by zero
    with pytest.raises(ValueError, match="weight must be > 0, got 0"):
        LMFusion(favouring_lm(FAVOURED), weight=0, token_reward=1.0)


def test_token_reward_shifts_the_lm_scores_up_to_zero():
    lm = favouring_lm(FAVOURED)
    assert LMFusion(lm, weight=0.5).search_lm() is lm
    rewarded = LMFusion(lm, weight=0.5, token_reward=2.0).search_lm()
    assert isinstance(rewarded, RewardedLM) and rewarded.shift == 4.0
    assert rewarded.rnn_type == lm.rnn_type
    y = torch.tensor([V - 1, 2])
    plain, _ = lm.score(y, None, None)
    shifted, _ = rewarded.score(y, None, None)
    assert torch.allclose(shifted, (plain + 4.0).clamp(max=0.0))
    assert shifted.max() == 0.0 and shifted.min() < -30  # capped; unlikely tokens stay unlikely
    ys = torch.tensor([[V - 1, 2], [V - 1, 3]])
    states = [lm.zero_state(), lm.zero_state()]
    bplain, _ = lm.batch_score(ys, states, None)
    bshift, _ = rewarded.batch_score(ys, states, None)
    assert torch.allclose(bshift, (bplain + 4.0).clamp(max=0.0))


def test_search_uses_the_rewarded_lm_and_a_huge_reward_still_ends(head):
    dec, joint, _ = head
    fusion = LMFusion(favouring_lm(2), weight=0.5, token_reward=1e4)
    beam = TransducerSearch(dec, joint, beam_size=2, lm=fusion).init_state().beam
    assert isinstance(beam.lm, RewardedLM) and beam.lm.lm is fusion.lm
    # with the cap a token never raises a score, so ESPnet's frame loop terminates
    assert decode(head, fusion) == [2]
