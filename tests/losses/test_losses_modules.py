"""Transducer loss modules built through build_transducer_loss with a real JointNetwork."""

import warnings

import pytest
import torch

from espnet2_jstar.losses import (
    TRANSDUCER_LOSS_CHOICES,
    AbsTransducerLoss,
    PrunedTransducerLoss,
    TorchaudioTransducerLoss,
    build_transducer_loss,
)

warnings.filterwarnings("ignore", message=".*deprecated.*")
JointNetwork = pytest.importorskip("espnet2.asr_transducer.joint_network").JointNetwork

B, T, U, V, DE, DD = 3, 7, 4, 11, 8, 6


def _batch(seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    enc = torch.randn(B, T, DE, generator=g, dtype=dtype, requires_grad=True)
    dec = torch.randn(B, U + 1, DD, generator=g, dtype=dtype, requires_grad=True)
    targets = torch.randint(1, V, (B, U), generator=g)
    tl, ul = torch.tensor([T, 5, 2]), torch.tensor([U, 2, 0])
    targets[1, 2:] = -1  # ESPnet pads with -1
    targets[2, :] = -1
    return enc, dec, targets, tl, ul


def _joint(seed=0):
    torch.manual_seed(seed)
    return JointNetwork(V, DE, DD, joint_space_size=16)


def _grads(loss, tensors):
    return torch.autograd.grad(loss, tensors, allow_unused=True)


def test_choices_and_builder():
    assert set(TRANSDUCER_LOSS_CHOICES) == {"torchaudio", "pruned"}
    for name, cls in TRANSDUCER_LOSS_CHOICES.items():
        m = build_transducer_loss(name, None, V, DE, DD, blank_id=0)
        assert isinstance(m, cls) and isinstance(m, AbsTransducerLoss)
    m = build_transducer_loss("pruned", {"prune_range": 5, "simple_loss_scale": 0.5,
                                         "lm_scale": 0.25, "am_scale": 0.0,
                                         "warmup_steps": 2000}, V, DE, DD)
    assert m.simple_am_proj.in_features == DE and m.simple_lm_proj.in_features == DD
    assert m.simple_am_proj.out_features == V
    with pytest.raises(ValueError, match="unknown transducer loss"):
        build_transducer_loss("k2", {}, V, DE, DD)
    with pytest.raises(ValueError, match="prune_rang"):
        build_transducer_loss("pruned", {"prune_rang": 5}, V, DE, DD)
    with pytest.raises(ValueError, match="prune_range"):
        build_transducer_loss("pruned", {"prune_range": 1}, V, DE, DD)
    with pytest.raises(ValueError, match="blank_id"):
        build_transducer_loss("torchaudio", {}, V, DE, DD, blank_id=V)


def test_torchaudio_and_full_range_pruned_agree():
    joint = _joint()
    enc, dec, targets, tl, ul = _batch()
    ta = build_transducer_loss("torchaudio", {}, V, DE, DD)
    pr = build_transducer_loss("pruned", {"prune_range": U + 1, "simple_loss_scale": 0.0,
                                          "warmup_steps": 0}, V, DE, DD)
    params = [enc, dec] + list(joint.parameters())
    l_ta, info_ta = ta(enc, dec, joint, targets, tl, ul)
    l_pr, info_pr = pr(enc, dec, joint, targets, tl, ul)
    assert torch.isfinite(l_ta) and l_ta.dim() == 0
    torch.testing.assert_close(l_pr, l_ta, atol=1e-4, rtol=1e-5)
    assert info_pr["pruned"] == pytest.approx(info_ta["loss"], abs=1e-4)
    for a, b in zip(_grads(l_ta, params), _grads(l_pr, params)):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_pruned_module_finite_loss_and_grads_everywhere():
    joint = _joint(1)
    enc, dec, targets, tl, ul = _batch(1)
    pr = build_transducer_loss("pruned", {"prune_range": 2}, V, DE, DD)
    loss, info = pr(enc, dec, joint, targets, tl, ul)
    params = [enc, dec] + list(joint.parameters()) + list(pr.parameters())
    grads = _grads(loss, params)
    assert torch.isfinite(loss)
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert pr.simple_am_proj.weight in list(pr.parameters())
    assert set(info) >= {"loss", "simple", "pruned", "simple_scale", "pruned_scale"}
    assert all(isinstance(v, float) for v in info.values())
    # the pruned lattice holds a subset of the alignments of the full one
    full, _ = build_transducer_loss("torchaudio", {}, V, DE, DD)(enc, dec, joint, targets,
                                                                 tl, ul)
    assert info["pruned"] >= float(full.detach()) - 1e-4


def test_padding_and_trailing_frames_do_not_matter():
    joint = _joint(2)
    enc, dec, targets, tl, ul = _batch(2)
    pr = build_transducer_loss("pruned", {"prune_range": 3, "warmup_steps": 0}, V, DE, DD)
    pr.eval()
    l1, _ = pr(enc, dec, joint, targets, tl, ul)
    enc2 = torch.cat([enc, torch.randn(B, 3, DE)], 1)
    dec2 = torch.cat([dec, torch.randn(B, 2, DD)], 1)
    tg2 = torch.cat([targets, torch.full((B, 2), 7)], 1)
    l2, _ = pr(enc2, dec2, joint, tg2, tl, ul)
    torch.testing.assert_close(l1, l2)


def test_warmup_schedule_and_set_step():
    pr = PrunedTransducerLoss(V, DE, DD, simple_loss_scale=0.5, warmup_steps=100)
    assert pr.loss_scales(0) == (1.0, pytest.approx(0.1))
    s, p = pr.loss_scales(50)
    assert s == pytest.approx(0.75) and p == pytest.approx(0.55)
    assert pr.loss_scales(100) == (0.5, 1.0) and pr.loss_scales(10**6) == (0.5, 1.0)
    assert PrunedTransducerLoss(V, DE, DD, warmup_steps=0).loss_scales(0) == (0.5, 1.0)
    joint = _joint()
    enc, dec, targets, tl, ul = _batch()
    pr.train()
    _, info0 = pr(enc, dec, joint, targets, tl, ul)  # step 0, then self-counted
    _, info1 = pr(enc, dec, joint, targets, tl, ul)
    assert info0["pruned_scale"] == pytest.approx(0.1)
    assert info1["pruned_scale"] == pytest.approx(0.1 + 0.9 / 100)
    pr.set_step(60)
    _, info = pr(enc, dec, joint, targets, tl, ul)
    _, info_again = pr(enc, dec, joint, targets, tl, ul)  # explicit step: no self-count
    assert info["simple_scale"] == pytest.approx(0.7) == info_again["simple_scale"]
    expect = info["simple_scale"] * info["simple"] + info["pruned_scale"] * info["pruned"]
    assert info["loss"] == pytest.approx(expect, rel=1e-5)
    pr.eval()
    _, info = pr(enc, dec, joint, targets, tl, ul)
    assert (info["simple_scale"], info["pruned_scale"]) == (0.5, 1.0)
    TorchaudioTransducerLoss(V, DE, DD).set_step(5)  # no-op, must exist


def test_prune_range_widened_when_targets_outrun_frames():
    joint = _joint()
    g = torch.Generator().manual_seed(9)
    enc = torch.randn(2, 2, DE, generator=g, requires_grad=True)
    dec = torch.randn(2, 7, DD, generator=g)
    targets = torch.randint(1, V, (2, 6), generator=g)
    tl, ul = torch.tensor([2, 1]), torch.tensor([6, 3])  # 3 symbols per frame needed
    pr = build_transducer_loss("pruned", {"prune_range": 2}, V, DE, DD)
    loss, info = pr(enc, dec, joint, targets, tl, ul)
    assert info["prune_range"] == 4.0
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(enc.grad).all()


def test_empty_targets_and_single_frame():
    joint = _joint()
    enc = torch.randn(2, 1, DE, requires_grad=True)
    dec = torch.randn(2, 1, DD)
    targets = torch.zeros(2, 0, dtype=torch.long)
    tl, ul = torch.tensor([1, 1]), torch.tensor([0, 0])
    l_ta, _ = build_transducer_loss("torchaudio", {}, V, DE, DD)(enc, dec, joint, targets,
                                                                 tl, ul)
    pr = build_transducer_loss("pruned", {"simple_loss_scale": 0.0, "warmup_steps": 0},
                               V, DE, DD)
    l_pr, _ = pr(enc, dec, joint, targets, tl, ul)
    torch.testing.assert_close(l_pr, l_ta, atol=1e-5, rtol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    joint = _joint()
    enc, dec, targets, tl, ul = _batch()
    pr = build_transducer_loss("pruned", {"prune_range": 3, "warmup_steps": 0}, V, DE, DD)
    pr.eval()
    l_cpu, _ = pr(enc, dec, joint, targets, tl, ul)
    g_cpu = _grads(l_cpu, [enc, dec])
    enc_c = enc.detach().cuda().requires_grad_()
    dec_c = dec.detach().cuda().requires_grad_()
    l_gpu, _ = pr.cuda()(enc_c, dec_c, joint.cuda(), targets.cuda(), tl.cuda(), ul.cuda())
    torch.testing.assert_close(l_gpu.cpu(), l_cpu, atol=1e-4, rtol=1e-5)
    for a, b in zip(_grads(l_gpu, [enc_c, dec_c]), g_cpu):
        torch.testing.assert_close(a.cpu(), b, atol=1e-4, rtol=1e-4)


def test_fastemit_logprobs_scales_only_emission_gradients():
    from espnet2_jstar.losses.transducer_loss import fastemit_logprobs

    g = torch.Generator().manual_seed(3)
    logp = torch.randn(B, T, U + 1, V, generator=g).log_softmax(-1).requires_grad_()
    _, _, targets, _, ul = _batch(3)
    w = torch.randn(B, T, U + 1, V, generator=g)
    lam = 0.25
    out = fastemit_logprobs(logp, targets, ul, lam)
    torch.testing.assert_close(out, logp)
    (grad,) = torch.autograd.grad((w * out).sum(), logp)
    expected = w.clone()
    for b in range(B):
        for u in range(int(ul[b])):  # padding (-1) and the last row keep their gradient
            expected[b, :, u, targets[b, u]] *= 1 + lam
    torch.testing.assert_close(grad, expected)
    assert fastemit_logprobs(logp, targets, ul, 0.0) is logp


def test_torchaudio_loss_fastemit():
    """Same loss value; in training the symbol arcs' gradients grow by 1 + lambda and the
    blank arcs' stay (checked on log-probs, through torchaudio's non-fused path, which at
    lambda = 0 matches its fused one); in eval mode FastEmit is off."""
    import torchaudio.functional as taF

    from espnet2_jstar.losses.transducer_loss import fastemit_logprobs

    joint = _joint(2)
    enc, dec, targets, tl, ul = _batch(2)
    params = [enc, dec] + list(joint.parameters())
    plain = build_transducer_loss("torchaudio", {}, V, DE, DD)
    fe = build_transducer_loss("torchaudio", {"fastemit_lambda": 0.5}, V, DE, DD)
    l0, _ = plain(enc, dec, joint, targets, tl, ul)
    l1, _ = fe(enc, dec, joint, targets, tl, ul)
    torch.testing.assert_close(l1, l0)
    g0, g1 = _grads(l0, params), _grads(l1, params)
    assert not torch.allclose(g0[0], g1[0])
    fe.eval()
    for a, b in zip(g0, _grads(fe(enc, dec, joint, targets, tl, ul)[0], params)):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="fastemit_lambda"):
        build_transducer_loss("torchaudio", {"fastemit_lambda": -1}, V, DE, DD)

    logits = joint(enc.unsqueeze(2), dec.unsqueeze(1)).detach().requires_grad_()
    tg = torch.where(targets < 0, 0, targets).int()
    fused = taF.rnnt_loss(logits, tg, tl.int(), ul.int(), blank=0)
    logp = logits.log_softmax(-1)
    unfused = taF.rnnt_loss(logp, tg, tl.int(), ul.int(), blank=0, fused_log_softmax=False)
    torch.testing.assert_close(unfused, fused)
    torch.testing.assert_close(*[torch.autograd.grad(x, logits)[0] for x in (unfused, fused)])
    leaf = logp.detach().requires_grad_()
    (d0,) = torch.autograd.grad(taF.rnnt_loss(leaf, tg, tl.int(), ul.int(), blank=0,
                                              fused_log_softmax=False), leaf)
    (d1,) = torch.autograd.grad(taF.rnnt_loss(fastemit_logprobs(leaf, tg, ul, 0.5), tg,
                                              tl.int(), ul.int(), blank=0,
                                              fused_log_softmax=False), leaf)
    emit = torch.zeros_like(d0, dtype=torch.bool)
    for b in range(B):
        for u in range(int(ul[b])):
            emit[b, :, u, tg[b, u]] = True
    assert d0[emit].abs().sum() > 0
    torch.testing.assert_close(d1[emit], 1.5 * d0[emit])
    torch.testing.assert_close(d1[~emit], d0[~emit])
