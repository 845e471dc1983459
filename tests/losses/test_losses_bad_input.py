"""Bad input gives a clear ValueError (where torchaudio errors out or reads garbage)."""

import math
import warnings

import pytest
import torch

from espnet2_jstar.losses import (
    build_transducer_loss,
    get_rnnt_prune_ranges,
    rnnt_loss,
    rnnt_loss_pruned,
    rnnt_loss_simple,
)

warnings.filterwarnings("ignore", message=".*deprecated.*")

B, T, U, V = 2, 4, 3, 6


def _ok():
    logits = torch.randn(B, T, U + 1, V)
    targets = torch.randint(1, V, (B, U))
    return logits, targets, torch.tensor([T, 2]), torch.tensor([U, 1])


@pytest.mark.parametrize("tl,ul,msg", [
    ([T + 1, 2], [U, 1], "logit_lengths must be in"),  # longer than the tensor
    ([-1, 2], [U, 1], "logit_lengths must be in"),  # negative
    ([0, 2], [U, 1], "at least one frame|>= 1 frame"),  # no frame for the final blank
    ([T, 2], [U + 1, 1], "target_lengths must be in"),
    ([T, 2], [-1, 1], "target_lengths must be in"),
])
def test_bad_lengths(tl, ul, msg):
    logits, targets, _, _ = _ok()
    with pytest.raises(ValueError, match=msg):
        rnnt_loss(logits, targets, torch.tensor(tl), torch.tensor(ul))


def test_bad_dtypes_and_shapes():
    logits, targets, tl, ul = _ok()
    for dt in (torch.float16, torch.bfloat16):
        with pytest.raises(ValueError, match="float32 or float64.*autocast"):
            rnnt_loss(logits.to(dt), targets, tl, ul)
    with pytest.raises(ValueError, match="targets must have an integer dtype"):
        rnnt_loss(logits, targets.float(), tl, ul)
    with pytest.raises(ValueError, match="logit_lengths must have an integer dtype"):
        rnnt_loss(logits, targets, tl.float(), ul)
    with pytest.raises(ValueError, match=r"targets must have shape \(2, 3\)"):
        rnnt_loss(logits, targets[:, :2], tl, ul)
    with pytest.raises(ValueError, match=r"target_lengths must have shape \(2,\)"):
        rnnt_loss(logits, targets, tl, ul[:1])
    with pytest.raises(ValueError, match="4 dims"):
        rnnt_loss(logits[0], targets, tl, ul)
    with pytest.raises(ValueError, match="reduction"):
        rnnt_loss(logits, targets, tl, ul, reduction="avg")


def test_bad_target_values_checked_only_inside_lengths():
    logits, targets, tl, ul = _ok()
    bad = targets.clone()
    bad[0, 0] = V  # out of vocabulary (torchaudio reads out of bounds here)
    with pytest.raises(ValueError, match=r"targets .* must be in \[0, V=6\)"):
        rnnt_loss(logits, bad, tl, ul)
    padded = targets.clone()
    padded[1, 1:] = -1  # beyond target_lengths[1] = 1: ignored
    assert torch.isfinite(rnnt_loss(logits, padded, tl, ul))
    with pytest.raises(ValueError, match="blank"):
        rnnt_loss(logits, targets, tl, ul, blank=-1)


def test_pruned_bad_ranges_and_infeasible_lattice():
    logits, targets, tl, ul = _ok()
    S = 2
    ranges = torch.zeros(B, T, S, dtype=torch.long) + torch.arange(S)
    lg = torch.randn(B, T, S, V, requires_grad=True)
    with pytest.raises(ValueError, match="consecutive"):
        rnnt_loss_pruned(lg, targets, ranges.flip(-1), tl, ul)
    dec = ranges.clone()
    dec[0, 1:] = 0
    dec[0, 0] = torch.tensor([1, 2])  # window start goes down
    with pytest.raises(ValueError, match="non-decreasing"):
        rnnt_loss_pruned(lg, targets, dec, tl, ul)
    with pytest.raises(ValueError, match="exceeds"):
        rnnt_loss_pruned(torch.randn(B, T, U + 2, V), targets,
                         torch.arange(U + 2).expand(B, T, U + 2), tl, ul)
    # windows that never move: only S-1 = 1 symbol can be emitted in total, but
    # utterance 0 has 3 -> no path survives: loss +inf, gradient 0 (documented)
    loss = rnnt_loss_pruned(lg, targets, ranges, tl, ul, reduction="none")
    assert math.isinf(loss[0].item()) and loss[0] > 0 and math.isfinite(loss[1].item())
    loss[0].backward()
    assert torch.equal(lg.grad, torch.zeros_like(lg))
    with pytest.raises(ValueError, match="prune_range must be >= 2"):
        get_rnnt_prune_ranges(torch.rand(B, T, U + 1), torch.rand(B, T, U + 1), tl, ul, 1)


def test_simple_loss_bad_inputs():
    _, targets, tl, ul = _ok()
    am, lm = torch.randn(B, T, V), torch.randn(B, U + 1, V)
    with pytest.raises(ValueError, match="lm_scale"):
        rnnt_loss_simple(lm, am, targets, tl, ul, lm_scale=0.8, am_scale=0.5)
    with pytest.raises(ValueError, match="lm must be"):
        rnnt_loss_simple(lm[..., :-1], am, targets, tl, ul)
    with pytest.raises(ValueError, match="float32 or float64"):
        rnnt_loss_simple(lm.half(), am, targets, tl, ul)


def test_module_bad_inputs():
    JointNetwork = pytest.importorskip("espnet2.asr_transducer.joint_network").JointNetwork
    joint = JointNetwork(V, 5, 4, joint_space_size=8)
    enc, dec = torch.randn(B, T, 5), torch.randn(B, U + 1, 4)
    targets = torch.randint(1, V, (B, U))
    for name in ("torchaudio", "pruned"):
        mod = build_transducer_loss(name, {}, V, 5, 4)
        with pytest.raises(ValueError, match="dec_out must be"):
            mod(enc, dec[:, :-1], joint, targets, torch.tensor([T, 2]), torch.tensor([U, 1]))
        with pytest.raises(ValueError, match="logit_lengths must be in"):
            mod(enc, dec, joint, targets, torch.tensor([T + 2, 2]), torch.tensor([U, 1]))
        with pytest.raises(ValueError, match="logit_lengths must be in"):
            mod(enc, dec, joint, targets, torch.tensor([0, 2]), torch.tensor([U, 1]))
        with pytest.raises(ValueError, match="target_lengths must be in"):
            mod(enc, dec, joint, targets, torch.tensor([T, 2]), torch.tensor([U, -1]))
        with pytest.raises(ValueError, match="integer dtype"):
            mod(enc, dec, joint, targets.float(), torch.tensor([T, 2]), torch.tensor([U, 1]))
