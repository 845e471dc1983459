"""The pure-PyTorch losses on CUDA: same values and gradients as on CPU and as torchaudio.

Skipped without a GPU (CI has none); run on a GPU machine with
``python -m pytest tests/losses/test_losses_cuda.py -v``. Where the installed torchaudio has
no ``rnnt_loss`` (it is deprecated), the reference is our own loss on CPU, which the CPU
tests compare with torchaudio.
"""

import random
import warnings

import pytest
import torch

from espnet2_jstar.losses import (
    build_transducer_loss,
    get_rnnt_prune_ranges,
    rnnt_loss,
    rnnt_loss_pruned,
)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
warnings.filterwarnings("ignore", message=".*deprecated.*")

try:  # torchaudio is optional here: newer releases may drop rnnt_loss
    from torchaudio.functional import rnnt_loss as _ta_rnnt_loss
except Exception:  # noqa: BLE001 - any import failure means "no reference kernel"
    _ta_rnnt_loss = None

DEV = "cuda"


def _case(seed, B, T, U, V, dtype=torch.float32, full_lengths=False):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, T, U + 1, V, dtype=dtype, generator=g) * 2
    targets = torch.randint(1, V, (B, U), generator=g)
    tl = torch.randint(1, T + 1, (B,), generator=g)
    ul = torch.randint(0, U + 1, (B,), generator=g)
    if full_lengths:
        tl[:], ul[:] = T, U
    tl[0], ul[0] = T, U
    targets[torch.arange(U)[None] >= ul[:, None]] = -1
    return logits, targets, tl, ul


def _reference(logits, targets, tl, ul):
    """(loss, grad of mean loss): torchaudio on CUDA where it is usable, our loss on CPU else.

    torchaudio 2.11's CUDA kernel returns 0 (not -log P) for an utterance with no targets
    (U=0) or a single frame (T=1): seen on an H200, where its CPU kernel and our loss agree
    with brute force. Those rows are taken from our CPU loss, which the CPU tests compare
    with torchaudio's CPU kernel.
    """
    x = logits.detach().clone().requires_grad_()
    loss = rnnt_loss(x, targets, tl, ul, reduction="none")
    if _ta_rnnt_loss is not None:
        xc = x.to(DEV)
        loss = torch.stack([
            _ta_rnnt_loss(xc[b:b + 1, : tl[b], : ul[b] + 1].contiguous(),
                          targets[b:b + 1, : ul[b]].clamp(min=0).int().to(DEV),
                          tl[b:b + 1].int().to(DEV), ul[b:b + 1].int().to(DEV),
                          blank=0, reduction="none")[0].cpu()
            if ul[b] > 0 and tl[b] > 1 else loss[b]
            for b in range(x.shape[0])])
    (g,) = torch.autograd.grad(loss.mean(), x)
    return loss.detach(), g


def _full_ranges(B, T, U):
    return torch.arange(U + 1).expand(B, T, U + 1).clone()


@pytest.mark.parametrize("B,T,U,V", [(3, 6, 4, 7), (2, 1, 3, 4), (2, 4, 0, 5),
                                     (16, 100, 30, 500)])
def test_full_and_full_range_pruned_match_reference_on_cuda(B, T, U, V):
    logits, targets, tl, ul = _case(B * 7 + T + U, B, T, U, V)
    ref, g_ref = _reference(logits, targets, tl, ul)
    x = logits.to(DEV).requires_grad_()
    args = (targets.to(DEV), tl.to(DEV), ul.to(DEV))
    full = rnnt_loss(x, *args, reduction="none")
    (g_full,) = torch.autograd.grad(full.mean(), x)
    pr = rnnt_loss_pruned(x, args[0], _full_ranges(B, T, U).to(DEV), *args[1:], reduction="none")
    (g_pr,) = torch.autograd.grad(pr.mean(), x)
    for loss, grad in ((full, g_full), (pr, g_pr)):
        assert loss.device.type == grad.device.type == torch.device(DEV).type
        torch.testing.assert_close(loss.cpu(), ref, atol=1e-4, rtol=1e-5)
        torch.testing.assert_close(grad.cpu(), g_ref, atol=1e-4, rtol=1e-4)


def test_random_shapes_on_cuda_equal_cpu():
    """Seeded property loop incl. U=0 and T=1: every loss and gradient equals the CPU one."""
    pyrng = random.Random(1)
    for i in range(20):
        B, T = pyrng.randint(1, 4), pyrng.randint(1, 8)
        U, V = pyrng.randint(0, 6), pyrng.randint(2, 9)
        logits, targets, tl, ul = _case(100 + i, B, T, U, V)
        S = min(pyrng.randint(2, U + 2), U + 1) if U > 0 else 1
        g = torch.Generator().manual_seed(i)
        occ = (torch.rand(B, T, U + 1, generator=g), torch.rand(B, T, U + 1, generator=g))
        ranges = get_rnnt_prune_ranges(occ[0], occ[1], tl, ul, S)
        lg = logits.gather(2, ranges[..., None].expand(B, T, S, V))
        out = {}
        for dev in ("cpu", DEV):
            x = lg.to(dev).requires_grad_()
            loss = rnnt_loss_pruned(x, targets.to(dev), ranges.to(dev), tl.to(dev), ul.to(dev),
                                    reduction="none")
            finite = torch.isfinite(loss)
            (grad,) = torch.autograd.grad(loss.masked_fill(~finite, 0).sum(), x)
            out[dev] = (loss.detach().cpu(), grad.cpu())
        torch.testing.assert_close(out[DEV][0], out["cpu"][0], atol=1e-4, rtol=1e-5)
        torch.testing.assert_close(out[DEV][1], out["cpu"][1], atol=1e-4, rtol=1e-4)


# gradcheck on CUDA: test_losses_functional.py::test_gradcheck_float64[cuda]


def test_pruned_module_under_bf16_autocast_is_finite_and_float32():
    """The module as training uses it on GPU (AMP): finite loss, float32 loss math."""
    from espnet2.asr_transducer.joint_network import JointNetwork

    torch.manual_seed(0)
    B, T, U, V, D = 4, 40, 12, 64, 32
    joint = JointNetwork(V, D, D, joint_space_size=48).to(DEV)
    loss_mod = build_transducer_loss("pruned", {"prune_range": 4, "warmup_steps": 0},
                                     V, D, D).to(DEV)
    enc = torch.randn(B, T, D, device=DEV, requires_grad=True)
    dec = torch.randn(B, U + 1, D, device=DEV, requires_grad=True)
    targets = torch.randint(1, V, (B, U), device=DEV)
    tl = torch.full((B,), T, device=DEV)
    ul = torch.full((B,), U, device=DEV)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss, info = loss_mod(enc, dec, joint, targets, tl, ul)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(enc.grad).all() and torch.isfinite(dec.grad).all()
    assert info["prune_range"] == 4.0
