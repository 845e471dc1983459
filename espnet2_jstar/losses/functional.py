"""Functional RNN-T losses: full, "simple" (trivial joiner) and pruned.

Pure PyTorch, CPU and CUDA; see :mod:`espnet2_jstar.losses.lattice` for the recursion and
why it is hand-written (k2 / fast_rnnt need compiled wheels matching torch + CUDA;
torchaudio has no pruned loss). The pruned loss follows Kuang et al. 2022, "Pruned RNN-T
for fast, memory-efficient ASR training" (arXiv 2206.13236), as in k2 / icefall:

1. :func:`rnnt_loss_simple` scores the lattice with a trivial joiner,
   ``logits[b, t, u] = am[b, t] + lm[b, u]``, normalised over V by one matmul, so no
   (B, T, U+1, V) tensor is built. It also returns the arc occupation probabilities.
2. :func:`get_rnnt_prune_ranges` picks, per frame, a window of ``prune_range`` symbol
   positions holding most of that occupation (monotone, reachable, ends at U).
3. The real joiner is evaluated only inside the windows, (B, T, S, V), and
   :func:`rnnt_loss_pruned` computes the exact RNN-T loss on that pruned lattice.

Conventions shared with ``torchaudio.functional.rnnt_loss`` (blank arcs move in t, symbol
arcs in u, the final blank leaves (T_b-1, U_b); reduction "mean" = mean over the batch of
per-utterance negative log-likelihoods). Differences, all checked with ``ValueError``:

* lengths may be shorter than the tensor dims (torchaudio wants max length == dim);
  padding in ``targets`` may hold any value (e.g. ESPnet's -1);
* logits must be float32 or float64 (torchaudio also takes float16, which is too coarse
  for the lattice; compute the loss outside autocast); targets/lengths any integer dtype;
* ``logit_lengths`` must be >= 1: with no frame there is no arc for the final blank
  (torchaudio returns undefined values there); negative or too-large lengths and
  targets outside [0, V) are rejected (torchaudio reads out of bounds).

Infinite losses: a full lattice always has a path when T_b >= 1. A pruned lattice has
none when ``U_b > T_b * (prune_range - 1)`` (each frame can emit at most S-1 symbols);
its loss is then ``+inf`` with zero gradient (the module widens the range instead).
"""

from typing import Optional, Tuple

import torch

from espnet2_jstar.losses.lattice import lattice_logprob, log_softmax_gather

_REDUCTIONS = ("mean", "sum", "none")


def _check_int(name: str, x: torch.Tensor, shape: Tuple[int, ...]) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
        raise ValueError(f"{name} must have an integer dtype, got {x.dtype}")
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(x.shape)}")


def _check_float(name: str, x: torch.Tensor, ndim: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in (torch.float32, torch.float64):
        raise ValueError(
            f"{name} must be float32 or float64, got {x.dtype}; half precision is too "
            "coarse for the lattice: call .float() and compute the loss outside autocast")
    if x.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dims, got shape {tuple(x.shape)}")


def _check_inputs(
    targets: torch.Tensor,
    logit_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    B: int,
    T: int,
    U: int,
    V: int,
    blank: int,
    device: torch.device,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Validate and return (targets padded to (B, U+1) with blank, T_b, U_b) as int64."""
    _check_int("targets", targets, (B, U))
    _check_int("logit_lengths", logit_lengths, (B,))
    _check_int("target_lengths", target_lengths, (B,))
    if not 0 <= blank < V:
        raise ValueError(f"blank={blank} is outside the vocabulary [0, {V})")
    tl = logit_lengths.to(device=device, dtype=torch.int64)
    ul = target_lengths.to(device=device, dtype=torch.int64)
    tg = targets.to(device=device, dtype=torch.int64)
    if B > 0:  # one host sync for all range checks
        inside = torch.arange(U, device=device)[None, :] < ul[:, None]
        tg = torch.where(inside, tg, blank)
        tg_ext = torch.cat([tg.reshape(-1), tg.new_full((1,), blank)])
        t_lo, t_hi, u_lo, u_hi, y_lo, y_hi = torch.stack(
            [tl.min(), tl.max(), ul.min(), ul.max(), tg_ext.min(), tg_ext.max()]).tolist()
        if t_lo < 1 or t_hi > T:
            raise ValueError(
                f"logit_lengths must be in [1, T={T}], got min {t_lo} max {t_hi} "
                "(a lattice needs >= 1 frame to emit the final blank)")
        if u_lo < 0 or u_hi > U:
            raise ValueError(f"target_lengths must be in [0, U={U}], got min {u_lo} max {u_hi}")
        if y_lo < 0 or y_hi >= V:
            raise ValueError(f"targets (within target_lengths) must be in [0, V={V}), got "
                             f"min {y_lo} max {y_hi}")
    tg = torch.cat([tg, torch.full((B, 1), blank, dtype=torch.int64, device=device)], 1)
    return tg, tl, ul


def _valid_mask(tl: torch.Tensor, ul: torch.Tensor, T: int, U1: int) -> torch.Tensor:
    """(B, T, U+1) bool: t < T_b and u <= U_b."""
    t = torch.arange(T, device=tl.device)[None, :, None] < tl[:, None, None]
    u = torch.arange(U1, device=tl.device)[None, None, :] <= ul[:, None, None]
    return t & u


def _reduce(nll: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return nll.mean()
    if reduction == "sum":
        return nll.sum()
    return nll


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _full_loss(x, targets, logit_lengths, target_lengths, blank, reduction, normalize):
    _check_float("logits" if normalize else "logprobs", x, 4)
    _check_reduction(reduction)
    B, T, U1, V = x.shape
    tg, tl, ul = _check_inputs(targets, logit_lengths, target_lengths, B, T, U1 - 1, V,
                               blank, x.device)
    idx = torch.stack([torch.full_like(tg, blank), tg], dim=-1)[:, None]  # (B,1,U+1,2)
    if normalize:
        lp = log_softmax_gather(x, idx)
    else:
        lp = x.gather(-1, idx.expand(B, T, U1, 2))
    total, _, _ = lattice_logprob(lp[..., 0], lp[..., 1], _valid_mask(tl, ul, T, U1), tl, ul)
    return _reduce(-total, reduction)


def rnnt_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    logit_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int = 0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Full RNN-T loss from unnormalised logits (drop-in for torchaudio's ``rnnt_loss``).

    Args:
        logits: (B, T, U+1, V) float32/float64 joint-network output.
        targets: (B, U) integer, padded (pad value irrelevant).
        logit_lengths: (B,) integer, 1 <= T_b <= T.
        target_lengths: (B,) integer, 0 <= U_b <= U.
        blank: blank index.
        reduction: "mean" | "sum" | "none".

    Returns:
        Scalar, or (B,) negative log-likelihoods for ``reduction="none"``.
    """
    return _full_loss(logits, targets, logit_lengths, target_lengths, blank, reduction, True)


def rnnt_loss_from_logprobs(
    logprobs: torch.Tensor,
    targets: torch.Tensor,
    logit_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int = 0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Full RNN-T loss on an already normalised (B, T, U+1, V) log-prob lattice.

    Same arguments as :func:`rnnt_loss`, but ``logprobs`` is used as is (no
    log-softmax), so any per-node scores (e.g. smoothed or externally normalised) work.
    """
    return _full_loss(logprobs, targets, logit_lengths, target_lengths, blank, reduction,
                      False)


def rnnt_loss_simple(
    lm: torch.Tensor,
    am: torch.Tensor,
    targets: torch.Tensor,
    logit_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int = 0,
    lm_scale: float = 0.0,
    am_scale: float = 0.0,
    reduction: str = "mean",
    return_occupation: bool = False,
):
    """RNN-T loss with the trivial joiner ``logits = am[:, :, None] + lm[:, None]``.

    The normaliser ``log sum_v exp(am[t, v] + lm[u, v])`` is one (T, V) x (V, U+1) matmul
    in the exp domain (after max subtraction). With ``lm_scale``/``am_scale`` > 0 the
    arc scores are interpolated with LM-only (``log_softmax(lm)``) and AM-only
    (``am`` normalised against the batch's unigram of ``softmax(lm)``) scores, as in
    k2's ``rnnt_loss_smoothed``; the unigram averages over real (unpadded) positions.

    Args:
        lm: (B, U+1, V) float, predictor side projected to the vocabulary.
        am: (B, T, V) float, encoder side projected to the vocabulary.
        targets, logit_lengths, target_lengths, blank, reduction: as in :func:`rnnt_loss`.
        lm_scale: weight of the LM-only scores, >= 0.
        am_scale: weight of the AM-only scores, >= 0, ``lm_scale + am_scale <= 1``.
        return_occupation: also return ``(occ_blank, occ_sym)``, each (B, T, U+1),
            the arc occupation probabilities (input of :func:`get_rnnt_prune_ranges`).

    Returns:
        loss, or ``(loss, (occ_blank, occ_sym))``.
    """
    _check_float("lm", lm, 3)
    _check_float("am", am, 3)
    _check_reduction(reduction)
    if lm_scale < 0 or am_scale < 0 or lm_scale + am_scale > 1:
        raise ValueError(f"need lm_scale >= 0, am_scale >= 0, lm_scale + am_scale <= 1; "
                         f"got {lm_scale}, {am_scale}")
    B, T, V = am.shape
    if lm.shape[0] != B or lm.shape[2] != V:
        raise ValueError(f"lm must be (B={B}, U+1, V={V}), got {tuple(lm.shape)}")
    U1 = lm.shape[1]
    tg, tl, ul = _check_inputs(targets, logit_lengths, target_lengths, B, T, U1 - 1, V,
                               blank, am.device)
    am_max = am.detach().amax(-1, keepdim=True)  # (B, T, 1)
    lm_max = lm.detach().amax(-1, keepdim=True)  # (B, U+1, 1)
    norm = torch.matmul((am - am_max).exp(), (lm - lm_max).exp().transpose(1, 2))
    norm = (norm + torch.finfo(am.dtype).tiny).log() + am_max + lm_max.transpose(1, 2)
    am_blank = am[:, :, blank, None]  # (B, T, 1)
    lm_blank = lm[:, None, :, blank]  # (B, 1, U+1)
    am_sym = am.gather(2, tg[:, None, :].expand(B, T, U1))  # (B, T, U+1)
    lm_sym = lm.gather(2, tg[:, :, None])[:, None, :, 0]  # (B, 1, U+1)
    blank_lp = am_blank + lm_blank - norm
    sym_lp = am_sym + lm_sym - norm
    combined = 1.0 - lm_scale - am_scale
    if lm_scale > 0 or am_scale > 0:
        blank_lp, sym_lp = combined * blank_lp, combined * sym_lp
    if lm_scale > 0:
        lm_lse = lm.logsumexp(-1)[:, None, :]  # (B, 1, U+1)
        blank_lp = blank_lp + lm_scale * (lm_blank - lm_lse)
        sym_lp = sym_lp + lm_scale * (lm_sym - lm_lse)
    if am_scale > 0:
        real = (torch.arange(U1, device=lm.device)[None, :] <= ul[:, None]).to(lm.dtype)
        probs = (lm - lm.logsumexp(-1, keepdim=True)).exp() * real[..., None]
        unigram = probs.sum((0, 1)) / real.sum()
        log_uni = (unigram + torch.finfo(lm.dtype).tiny).log()  # (V,)
        am_lse = (am + log_uni).logsumexp(-1)[:, :, None]  # (B, T, 1)
        blank_lp = blank_lp + am_scale * (am_blank + log_uni[blank] - am_lse)
        sym_lp = sym_lp + am_scale * (am_sym + log_uni[tg][:, None, :] - am_lse)
    total, occ_b, occ_s = lattice_logprob(
        blank_lp, sym_lp, _valid_mask(tl, ul, T, U1), tl, ul)
    loss = _reduce(-total, reduction)
    return (loss, (occ_b, occ_s)) if return_occupation else loss


def _rev_cummin(x: torch.Tensor) -> torch.Tensor:
    return x.flip(-1).cummin(-1).values.flip(-1)


def get_rnnt_prune_ranges(
    occ_blank: torch.Tensor,
    occ_sym: torch.Tensor,
    logit_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    prune_range: int,
) -> torch.Tensor:
    """Per-frame symbol windows for the pruned loss, from simple-loss occupations.

    For frame t, window start s maximises ``sum_{k<S} occ_blank[t, s+k] -
    occ_sym[t, s-1]`` (probability mass of paths whose frame-t nodes all lie in the
    window). Starts are then made monotone, with ``s[0] = 0``, ``s[t+1] - s[t] <= S-1``
    and the last real frame's window ending at U_b (k2's ``get_rnnt_prune_ranges``), so
    a path survives whenever ``U_b <= T_b * (S - 1)``.

    Args:
        occ_blank: (B, T, U+1) blank-arc occupations (from :func:`rnnt_loss_simple`).
        occ_sym: (B, T, U+1) symbol-arc occupations.
        logit_lengths: (B,) integer T_b.
        target_lengths: (B,) integer U_b.
        prune_range: window size S (>= 2); clipped to U+1.

    Returns:
        (B, T, S) int64 symbol positions ``s[b, t] + arange(S)``, all in [0, U].
    """
    B, T, U1 = occ_blank.shape
    if occ_sym.shape != occ_blank.shape:
        raise ValueError(f"occ_sym {tuple(occ_sym.shape)} != occ_blank {(B, T, U1)}")
    S = min(int(prune_range), U1)
    if S < 2 and U1 > 1:
        raise ValueError(f"prune_range must be >= 2 (got {prune_range}): with one symbol "
                         "position per frame no path can emit a symbol")
    dev = occ_blank.device
    tl = logit_lengths.to(device=dev, dtype=torch.int64)
    ul = target_lengths.to(device=dev, dtype=torch.int64)
    occ_blank, occ_sym = occ_blank.detach(), occ_sym.detach()
    cs = torch.cat([occ_blank.new_zeros(B, T, 1), occ_blank.cumsum(-1)], dim=-1)
    window = cs[..., S:] - cs[..., : U1 - S + 1]  # (B, T, U1-S+1)
    enter = torch.cat([occ_sym.new_zeros(B, T, 1), occ_sym[..., : U1 - S]], dim=-1)
    s_begin = (window - enter).argmax(-1)  # (B, T)
    t = torch.arange(T, device=dev)
    last = (ul - S + 1).clamp(min=0)[:, None]
    s_begin = torch.where(t[None] < tl[:, None] - 1, s_begin, last)
    # monotone, s[t+1] - s[t] <= S-1, s[0] = 0 (k2's _adjust_pruning_lower_bound)
    s_begin = _rev_cummin(s_begin.clamp(min=0))
    step = (S - 1) * t[None]
    s_begin = step - _rev_cummin(step - s_begin).clamp(min=0)
    return s_begin[..., None] + torch.arange(S, device=dev)


def rnnt_loss_pruned(
    logits: torch.Tensor,
    targets: torch.Tensor,
    ranges: torch.Tensor,
    logit_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int = 0,
    reduction: str = "mean",
    reuse_logits_memory: bool = False,
) -> torch.Tensor:
    """Exact RNN-T loss on the lattice restricted to ``ranges``.

    Node (t, ranges[b, t, k]) has joint output ``logits[b, t, k]``; nodes outside the
    windows are removed. With ``ranges[b, t] = arange(U+1)`` this equals :func:`rnnt_loss`.

    Args:
        logits: (B, T, S, V) float32/float64, joiner output inside the windows.
        targets: (B, U) integer, padded.
        ranges: (B, T, S) integer, consecutive positions in [0, U], window starts
            non-decreasing in t (as from :func:`get_rnnt_prune_ranges`).
        logit_lengths, target_lengths, blank, reduction: as in :func:`rnnt_loss`.
        reuse_logits_memory: overwrite ``logits`` with its softmax, then its gradient
            (one (B, T, S, V) buffer less); only if nothing reads ``logits`` afterwards.

    Returns:
        Scalar, or (B,) for ``reduction="none"``; +inf where no path survives.
    """
    _check_float("logits", logits, 4)
    _check_reduction(reduction)
    B, T, S, V = logits.shape
    if not isinstance(targets, torch.Tensor) or targets.dim() != 2:
        raise ValueError("targets must be a (B, U) integer tensor")
    U = targets.shape[1]
    tg, tl, ul = _check_inputs(targets, logit_lengths, target_lengths, B, T, U, V, blank,
                               logits.device)
    _check_int("ranges", ranges, (B, T, S))
    if S > U + 1:
        raise ValueError(f"prune range S={S} exceeds the U+1={U + 1} symbol positions")
    rg = ranges.to(device=logits.device, dtype=torch.int64)
    real = (torch.arange(T, device=rg.device)[None, :] < tl[:, None])[..., None]
    k = torch.arange(S, device=rg.device)
    bad = (rg < 0) | (rg > U) | (rg != rg[..., :1] + k)
    bad[:, 1:] |= rg[:, 1:] < rg[:, :-1]  # window starts must not decrease
    if bool((bad & real).any()):
        raise ValueError("ranges must be consecutive symbol positions in [0, U] with "
                         "window starts non-decreasing over the real frames")
    rg = torch.where(real, rg, k)  # padded frames: any distinct in-range positions
    sym_idx = tg.gather(1, rg.reshape(B, T * S)).reshape(B, T, S)
    idx = torch.stack([torch.full_like(sym_idx, blank), sym_idx], -1)
    lp = log_softmax_gather(logits, idx, reuse_logits_memory)
    blank_full = logits.new_zeros(B, T, U + 1).scatter(2, rg, lp[..., 0])
    sym_full = logits.new_zeros(B, T, U + 1).scatter(2, rg, lp[..., 1])
    in_window = torch.zeros(B, T, U + 1, dtype=torch.bool, device=rg.device)
    in_window.scatter_(2, rg, True)
    valid = in_window & _valid_mask(tl, ul, T, U + 1)
    total, _, _ = lattice_logprob(blank_full, sym_full, valid, tl, ul)
    return _reduce(-total, reduction)


def prune_and_join(
    joint_network: torch.nn.Module,
    enc_out: torch.Tensor,
    dec_out: torch.Tensor,
    ranges: torch.Tensor,
    enc_proj: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Evaluate an ESPnet ``JointNetwork`` only inside the pruning windows.

    Args:
        joint_network: has ``lin_enc``, ``lin_dec`` and ``forward(.., no_projection=True)``.
        enc_out: (B, T, D_enc) encoder output.
        dec_out: (B, U+1, D_dec) predictor output.
        ranges: (B, T, S) int64 symbol positions.
        enc_proj: optional precomputed ``joint_network.lin_enc(enc_out)``.

    Returns:
        (B, T, S, V) joiner logits.
    """
    if enc_proj is None:
        enc_proj = joint_network.lin_enc(enc_out)  # (B, T, J)
    dec_proj = joint_network.lin_dec(dec_out)  # (B, U+1, J)
    b = torch.arange(dec_proj.shape[0], device=dec_proj.device)[:, None, None]
    dec_g = dec_proj[b, ranges]  # (B, T, S, J)
    return joint_network(enc_proj.unsqueeze(2), dec_g, no_projection=True)
