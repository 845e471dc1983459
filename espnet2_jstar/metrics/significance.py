"""Paired bootstrap comparison of systems on one test set: BLEU/chrF (sacrebleu) and WER.

On the mini corpus a test set has 100 conversations, and the 95 % interval of one system's
BLEU spans about ±4 points (TUNING_mini.md §19): a table of point scores alone invites
reading noise as progress. BLEU and chrF use sacrebleu's own paired bootstrap
(``sacrebleu.significance.PairedTest``, the test of ``sacrebleu --paired-bs``), on the
speaker-tag-stripped text that :func:`espnet2_jstar.metrics.quality.bleu_chrf` scores.
sacrebleu has no WER, so the WER test is written here, the same way: utterances resampled
with replacement (the same draws for every system), corpus WER per draw, the 95 % interval
from the 2.5th and 97.5th percentiles (sacrebleu's own ``estimate_ci``), and the p-value of the
absolute difference to the baseline against its centred bootstrap distribution
(sacrebleu's ``_paired_bs_test``, after Moses' ``bootstrap-hypothesis-difference-significance.pl``).
Both use the seed in ``SACREBLEU_SEED`` (sacrebleu's default 12345).

Several systems tested against one baseline make several tests: :func:`add_holm` adds, per
metric, Holm's step-down adjustment of their p-values (family-wise error), beside the plain ones.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from sacrebleu.significance import estimate_ci

from espnet2_jstar.metrics.quality import word_errors
from espnet2_jstar.metrics.text import SPEAKER_TAGS, strip_tags


@dataclass
class Compared:
    """One system's score for one metric, as compared with the baseline.

    Attributes:
        system: System name.
        metric: "WER", "BLEU" or "chrF".
        score: The score on the whole set.
        mean: Mean over the bootstrap draws.
        ci: Half-width of the 95 % interval over the draws.
        p_value: Paired test against the baseline (None for the baseline itself).
        p_holm: ``p_value`` adjusted by Holm's method over the systems compared with the
            same baseline on the same metric (:func:`add_holm`; None until then).
    """

    system: str
    metric: str
    score: float
    mean: float
    ci: float
    p_value: Optional[float] = None
    p_holm: Optional[float] = None

    def to_dict(self) -> Dict[str, object]:
        return asdict(self)


def _seed() -> Optional[int]:
    seed = os.environ.get("SACREBLEU_SEED", "12345")
    return None if seed.lower() == "none" else int(seed)


def _p_value(base: np.ndarray, sys_: np.ndarray, observed: float) -> float:
    """sacrebleu's paired bootstrap p-value for an observed absolute difference (before
    :func:`_no_difference`)."""
    diffs = np.abs(sys_ - base)
    return float((np.sum(diffs - diffs.mean() > observed) + 1) / (len(diffs) + 1))


def _no_difference(score: float, base_score: float, p: float, n_samples: int) -> bool:
    """True where the paired bootstrap p-value is its floor for want of any difference.

    The test (sacrebleu's, and :func:`_p_value` for WER) counts the draws whose centred
    absolute difference exceeds the observed one. With an observed difference of 0 no draw can
    exceed it only when every draw's difference is the same (0): an output identical to the
    baseline's, or two different outputs that score the same on every draw (both BLEU 0, or
    both wrong on every word). The formula then returns its floor, 1 / (draws + 1), as if the
    difference were significant; there is nothing to test, and the caller reports p = 1. Where
    the draws vary, or every draw gives the same non-zero difference (an empty output against
    a perfect one), the p-value stands.
    """
    return score == base_score and p <= 1.0 / (n_samples + 1) + 1e-12


def _check(named_hyps: Sequence[Tuple[str, Sequence[str]]], refs: Sequence[str]) -> None:
    if len(named_hyps) < 2:
        raise ValueError("a comparison needs a baseline and at least one system")
    for name, hyps in named_hyps:
        if len(hyps) != len(refs):
            raise ValueError(f"{name}: {len(hyps)} hypotheses but {len(refs)} references")


def compare_wer(named_hyps: Sequence[Tuple[str, Sequence[str]]], refs: Sequence[str],
                n_samples: int = 1000, tags: Sequence[str] = SPEAKER_TAGS) -> List[Compared]:
    """Paired bootstrap of corpus WER (tags stripped), the first system being the baseline.

    Args:
        named_hyps: [(name, hypotheses parallel to refs)], baseline first.
        refs: Reference SOT strings.
        n_samples: Bootstrap draws.
        tags: The speaker tags.

    Returns:
        One :class:`Compared` per system, in input order.
    """
    _check(named_hyps, refs)
    idx = np.random.default_rng(_seed()).choice(len(refs), size=(n_samples, len(refs)))
    out, base_draws = [], None
    for name, hyps in named_hyps:
        errors, lengths = (np.array(x, dtype=np.float64) for x in word_errors(hyps, refs, tags))
        score = 100.0 * errors.sum() / max(lengths.sum(), 1.0)
        draws = 100.0 * errors[idx].sum(1) / np.maximum(lengths[idx].sum(1), 1.0)
        mean, ci = (float(x) for x in estimate_ci(draws))
        p = None
        if base_draws is None:
            base_draws, base_score = draws, score
        else:
            p = _p_value(base_draws, draws, abs(score - base_score))
            if _no_difference(score, base_score, p, n_samples):
                p = 1.0
        out.append(Compared(name, "WER", float(score), mean, ci, p))
    return out


def compare_bleu_chrf(named_hyps: Sequence[Tuple[str, Sequence[str]]], refs: Sequence[str],
                      n_samples: int = 1000,
                      tags: Sequence[str] = SPEAKER_TAGS) -> Tuple[List[Compared], Dict[str, str]]:
    """sacrebleu's paired bootstrap of BLEU and chrF (tags stripped), baseline first.

    Returns:
        ([Compared] for BLEU then chrF, system by system in input order),
        {metric: sacrebleu signature with the bootstrap's seed and draws}.
    """
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    _check(named_hyps, refs)
    systems = [(name, [strip_tags(h, tags) for h in hyps]) for name, hyps in named_hyps]
    test = PairedTest(systems, {"BLEU": BLEU(), "chrF": CHRF()},
                      [[strip_tags(r, tags) for r in refs]], test_type="bs",
                      n_samples=n_samples)
    signatures, scores = test()
    # sacrebleu keys its results by the metric's own name ("chrF2" for chrF at beta 2)
    out, sigs = [], {}
    for metric, key in zip(("BLEU", "chrF"), [k for k in scores if k != "System"]):
        sigs[metric] = str(signatures[key])
        base = scores[key][0].score
        for name, res in zip(scores["System"], scores[key]):
            p = res.p_value
            if p is not None and _no_difference(res.score, base, p, n_samples):
                p = 1.0
            out.append(Compared(name, metric, float(res.score), float(res.mean),
                                float(res.ci), p))
    return out, sigs


def holm(p_values: Sequence[float]) -> List[float]:
    """Holm's step-down adjustment (Holm 1979), in input order.

    The i-th smallest of m p-values is multiplied by m - i (i from 0), capped at 1, and made
    monotone. Written here because neither sacrebleu nor scipy has it (scipy's
    ``false_discovery_control`` controls the false discovery rate, a weaker guarantee) and the
    stack has no statsmodels.
    """
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda k: p_values[k])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def add_holm(results: Sequence[Compared]) -> None:
    """Set ``p_holm`` of every non-baseline result, each metric a family of its own."""
    for metric in dict.fromkeys(r.metric for r in results):
        family = [r for r in results if r.metric == metric and r.p_value is not None]
        for r, adjusted in zip(family, holm([r.p_value for r in family])):
            r.p_holm = adjusted
