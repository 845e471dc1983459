"""Correctness of the pure-PyTorch RNN-T losses against torchaudio and brute force."""

import math
import random
import warnings

import pytest
import torch

from espnet2_jstar.losses import (
    get_rnnt_prune_ranges,
    rnnt_loss,
    rnnt_loss_from_logprobs,
    rnnt_loss_pruned,
    rnnt_loss_simple,
)
from espnet2_jstar.losses.lattice import lattice_logprob

warnings.filterwarnings("ignore", message=".*deprecated.*")
taF = pytest.importorskip("torchaudio.functional")


def _ta_loss(logits, targets, tl, ul):
    """torchaudio reference: it wants max lengths == dims, so pad-free per utterance."""
    out = []
    for b in range(logits.shape[0]):
        x = logits[b:b + 1, : tl[b], : ul[b] + 1].contiguous()
        out.append(taF.rnnt_loss(x, targets[b:b + 1, : ul[b]].int().contiguous(),
                                 tl[b:b + 1].int(), ul[b:b + 1].int(), blank=0,
                                 reduction="none"))
    return torch.cat(out)


def _random_case(rng, B, T, U, V, dtype=torch.float32):
    logits = torch.randn(B, T, U + 1, V, dtype=dtype, generator=rng) * 2
    targets = torch.randint(1, V, (B, U), generator=rng)
    tl = torch.randint(1, T + 1, (B,), generator=rng)
    ul = torch.randint(0, U + 1, (B,), generator=rng)
    tl[0], ul[0] = T, U
    targets[torch.arange(U)[None] >= ul[:, None]] = -1  # ESPnet-style padding
    return logits.requires_grad_(), targets, tl, ul


def _full_ranges(B, T, U):
    return torch.arange(U + 1).expand(B, T, U + 1).clone()


def _brute_force(lp, targets, T, U):
    """-log P by explicit recursion over all alignments (tiny sizes only)."""
    memo = {}

    def rec(t, u):
        if (t, u) in memo:
            return memo[(t, u)]
        if t == T - 1 and u == U:
            return lp[t][u][0]
        terms = []
        if t < T - 1:
            terms.append(lp[t][u][0] + rec(t + 1, u))
        if u < U:
            terms.append(lp[t][u][targets[u]] + rec(t, u + 1))
        memo[(t, u)] = math.log(sum(math.exp(v) for v in terms))
        return memo[(t, u)]

    return -rec(0, 0)


@pytest.mark.parametrize("B,T,U,V", [(3, 6, 4, 7), (2, 3, 7, 5), (2, 1, 3, 4),
                                     (2, 4, 0, 5), (1, 1, 0, 3), (4, 9, 5, 12)])
def test_full_loss_and_grad_match_torchaudio(B, T, U, V):
    rng = torch.Generator().manual_seed(B * 100 + T * 10 + U)
    logits, targets, tl, ul = _random_case(rng, B, T, U, V)
    ref = _ta_loss(logits, targets.clamp(min=0), tl, ul)
    (g_ref,) = torch.autograd.grad(ref.mean(), logits)
    ours = rnnt_loss(logits, targets, tl, ul, reduction="none")
    (g,) = torch.autograd.grad(ours.mean(), logits)
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(g, g_ref, atol=1e-4, rtol=1e-4)
    # pruned with windows covering the whole lattice is the same loss
    pr = rnnt_loss_pruned(logits, targets, _full_ranges(B, T, U), tl, ul, reduction="none")
    (g_pr,) = torch.autograd.grad(pr.mean(), logits)
    torch.testing.assert_close(pr, ref, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(g_pr, g_ref, atol=1e-4, rtol=1e-4)


def test_matches_brute_force_and_from_logprobs():
    rng = torch.Generator().manual_seed(7)
    logits, targets, tl, ul = _random_case(rng, 1, 4, 3, 5, torch.float64)
    lp = logits.detach().log_softmax(-1)[0].tolist()
    expect = _brute_force(lp, targets[0].tolist(), 4, 3)
    assert abs(rnnt_loss(logits, targets, tl, ul).item() - expect) < 1e-10
    got = rnnt_loss_from_logprobs(logits.log_softmax(-1), targets, tl, ul)
    assert abs(got.item() - expect) < 1e-10


def test_random_shapes_pruned_vs_full_properties():
    """Seeded property loop: full == torchaudio; pruned >= full; full ranges == full."""
    rng = torch.Generator().manual_seed(0)
    pyrng = random.Random(0)
    for _ in range(25):
        B, T = pyrng.randint(1, 4), pyrng.randint(1, 8)
        U, V = pyrng.randint(0, 6), pyrng.randint(2, 9)
        logits, targets, tl, ul = _random_case(rng, B, T, U, V)
        full = rnnt_loss(logits, targets, tl, ul, reduction="none")
        torch.testing.assert_close(full, _ta_loss(logits, targets.clamp(min=0), tl, ul),
                                   atol=1e-4, rtol=1e-5)
        S = pyrng.randint(2, U + 2) if U > 0 else 1
        S = min(S, U + 1)
        occ = (torch.rand(B, T, U + 1, generator=rng), torch.rand(B, T, U + 1, generator=rng))
        ranges = get_rnnt_prune_ranges(occ[0], occ[1], tl, ul, S)
        lg = logits.gather(2, ranges[..., None].expand(B, T, S, V))
        pruned = rnnt_loss_pruned(lg, targets, ranges, tl, ul, reduction="none")
        # a pruned lattice keeps a subset of the alignments: P_pruned <= P_full
        assert torch.all(pruned >= full - 1e-4)
        feasible = ul <= tl * (S - 1) if U > 0 else torch.ones(B, dtype=torch.bool)
        assert torch.all(torch.isfinite(pruned) == feasible)
        pruned.masked_fill(~feasible, 0).sum().backward()
        assert torch.isfinite(logits.grad).all()


def test_prune_ranges_are_monotone_reachable_and_end_at_U():
    rng = torch.Generator().manual_seed(3)
    for S in (2, 3, 5):
        B, T, U = 6, 9, 12
        tl = torch.randint(1, T + 1, (B,), generator=rng)
        ul = torch.minimum(torch.randint(0, U + 1, (B,), generator=rng), tl * (S - 1))
        tl[0], ul[0] = T, min(U, T * (S - 1))
        occ_b = torch.rand(B, T, U + 1, generator=rng)
        occ_s = torch.rand(B, T, U + 1, generator=rng)
        r = get_rnnt_prune_ranges(occ_b, occ_s, tl, ul, S)
        assert r.shape == (B, T, S) and r.dtype == torch.int64
        assert torch.equal(r - r[..., :1], torch.arange(S).expand(B, T, S))
        s = r[..., 0]
        assert (s[:, 0] == 0).all() and (r >= 0).all() and (r <= U).all()
        d = s[:, 1:] - s[:, :-1]
        assert (d >= 0).all() and (d <= S - 1).all()
        last = s[torch.arange(B), tl - 1]
        assert ((last <= ul) & (ul <= last + S - 1)).all()


def test_simple_loss_equals_full_loss_on_trivial_joiner():
    rng = torch.Generator().manual_seed(5)
    B, T, U, V = 3, 6, 4, 9
    am = torch.randn(B, T, V, generator=rng, requires_grad=True)
    lm = torch.randn(B, U + 1, V, generator=rng, requires_grad=True)
    _, targets, tl, ul = _random_case(rng, B, T, U, V)
    simple, (occ_b, occ_s) = rnnt_loss_simple(lm, am, targets, tl, ul, reduction="none",
                                              return_occupation=True)
    full = rnnt_loss(am[:, :, None] + lm[:, None], targets, tl, ul, reduction="none")
    torch.testing.assert_close(simple, full, atol=1e-4, rtol=1e-5)
    g1 = torch.autograd.grad(simple.sum(), [am, lm])
    g2 = torch.autograd.grad(full.sum(), [am, lm])
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    # occupations: every path uses T_b blank arcs and U_b symbol arcs
    torch.testing.assert_close(occ_b.sum((1, 2)), tl.float(), atol=1e-4, rtol=0)
    torch.testing.assert_close(occ_s.sum((1, 2)), ul.float(), atol=1e-4, rtol=0)


@pytest.mark.parametrize("lm_scale,am_scale", [(0.25, 0.0), (0.0, 0.3), (0.2, 0.1)])
def test_smoothed_simple_loss_finite_and_padding_invariant(lm_scale, am_scale):
    rng = torch.Generator().manual_seed(11)
    B, T, U, V = 3, 5, 3, 6
    am = torch.randn(B, T, V, generator=rng, requires_grad=True)
    lm = torch.randn(B, U + 1, V, generator=rng, requires_grad=True)
    targets = torch.randint(1, V, (B, U), generator=rng)
    tl, ul = torch.tensor([5, 5, 5]), torch.tensor([3, 3, 3])
    loss = rnnt_loss_simple(lm, am, targets, tl, ul, lm_scale=lm_scale, am_scale=am_scale)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(am.grad).all()
    # extra padding must not change the per-utterance values
    am_p = torch.cat([am, torch.randn(B, 2, V)], 1)
    lm_p = torch.cat([lm, torch.randn(B, 2, V)], 1)
    tg_p = torch.cat([targets, torch.full((B, 2), -1)], 1)
    loss_p = rnnt_loss_simple(lm_p, am_p, tg_p, tl, ul, lm_scale=lm_scale, am_scale=am_scale)
    torch.testing.assert_close(loss, loss_p, atol=1e-5, rtol=1e-6)


@pytest.mark.parametrize("dev", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA"))])
def test_gradcheck_float64(dev):
    rng = torch.Generator().manual_seed(2)
    B, T, U, V = 2, 3, 2, 4
    logits, targets, tl, ul = _random_case(rng, B, T, U, V, torch.float64)
    ranges = get_rnnt_prune_ranges(torch.rand(B, T, U + 1, dtype=torch.float64),
                                   torch.rand(B, T, U + 1, dtype=torch.float64), tl, ul, 2)
    logits, ranges = logits.detach().to(dev).requires_grad_(), ranges.to(dev)
    targets, tl, ul = targets.to(dev), tl.to(dev), ul.to(dev)
    assert torch.autograd.gradcheck(lambda x: rnnt_loss(x, targets, tl, ul, reduction="none"),
                                    (logits,))
    f64 = dict(dtype=torch.float64, device=dev)
    lg = torch.randn(B, T, 2, V, generator=rng).to(**f64).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x: rnnt_loss_pruned(x, targets, ranges, tl, ul, reduction="none"), (lg,))
    am = torch.randn(B, T, V, generator=rng).to(**f64).requires_grad_()
    lm = torch.randn(B, U + 1, V, generator=rng).to(**f64).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, m: rnnt_loss_simple(m, a, targets, tl, ul, lm_scale=0.2, am_scale=0.1,
                                      reduction="sum"), (am, lm))
    # the raw lattice, with an arbitrary (unnormalised) score per arc
    blank = torch.randn(B, T, U + 1, generator=rng).to(**f64).requires_grad_()
    sym = torch.randn(B, T, U + 1, generator=rng).to(**f64).requires_grad_()
    valid = ((torch.arange(T, device=dev)[None, :, None] < tl[:, None, None])
             & (torch.arange(U + 1, device=dev)[None, None, :] <= ul[:, None, None]))
    assert torch.autograd.gradcheck(
        lambda b, s: lattice_logprob(b, s, valid, tl, ul)[0], (blank, sym))


def test_reductions_and_batch_independence():
    rng = torch.Generator().manual_seed(4)
    logits, targets, tl, ul = _random_case(rng, 3, 5, 3, 6)
    per = rnnt_loss(logits, targets, tl, ul, reduction="none")
    torch.testing.assert_close(rnnt_loss(logits, targets, tl, ul), per.mean())
    torch.testing.assert_close(rnnt_loss(logits, targets, tl, ul, reduction="sum"), per.sum())
    single = rnnt_loss(logits[1:2], targets[1:2], tl[1:2], ul[1:2], reduction="none")
    torch.testing.assert_close(per[1:2], single)


def test_reuse_logits_memory_same_result_and_single_backward():
    rng = torch.Generator().manual_seed(8)
    B, T, U, V = 2, 5, 3, 7
    _, targets, tl, ul = _random_case(rng, B, T, U, V)
    ranges = get_rnnt_prune_ranges(torch.rand(B, T, U + 1), torch.rand(B, T, U + 1), tl, ul, 3)
    base = torch.randn(B, T, 3, V, generator=rng, requires_grad=True)
    ref = rnnt_loss_pruned(base * 1.0, targets, ranges, tl, ul)
    (g_ref,) = torch.autograd.grad(ref, base)
    got = rnnt_loss_pruned(base * 1.0, targets, ranges, tl, ul, reuse_logits_memory=True)
    (g,) = torch.autograd.grad(got, base, retain_graph=True)
    torch.testing.assert_close(got, ref)
    torch.testing.assert_close(g, g_ref)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(got, base)
