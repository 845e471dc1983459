"""Sentence-level train/dev/test splits and the ``test_unseen`` split.

* A seeded set of *held-out* adjective–noun pairs (frequent words in new combinations) is
  banned from ``train``, ``dev`` and ``test``.
* ``train``, ``dev`` and ``test`` draw from one sentence stream; every distinct sentence
  (English or Spanish side) is given to one split only, interleaved in proportion to the
  quotas so that frequent short sentences are not all owned by one split.
* ``test_unseen`` sentences each contain at least one held-out pair, so every one of them
  has a word combination never seen in ``train``.

Usage:
    python -c "from espnet2_jstar.data.textsplits import build_text_splits; \
print({k: len(v) for k, v in build_text_splits({'train': 50, 'test': 10}, seed=0).items()})"
"""

from __future__ import annotations

import random
from typing import Dict, FrozenSet, List, Optional

from espnet2_jstar.data.grammar import Grammar, Pair, Sentence

SPLITS = ("train", "dev", "test", "test_unseen")


def held_out_pairs(grammar: Grammar, seed: int, fraction: float = 0.03,
                   top_adjectives: int = 40, top_nouns: int = 60) -> FrozenSet[Pair]:
    """Deterministic set of (adjective, noun) pairs kept out of train/dev/test.

    Candidates combine the ``top_adjectives`` most frequent adjectives with each class's
    ``top_nouns`` most frequent nouns, so both words of a held-out pair are well seen in
    training on their own.
    """
    rng = random.Random(f"heldout-{seed}")
    by_cls: Dict[str, List] = {}
    for n in grammar.countable:
        by_cls.setdefault(n.cls, []).append(n)
    cands = [(a.en, n.en) for a in grammar.lex.adjectives[:top_adjectives]
             for cls, nouns in sorted(by_cls.items()) if cls in a.applies
             for n in nouns[:top_nouns]]
    k = max(1, int(round(fraction * len(cands))))
    return frozenset(rng.sample(cands, k))


def build_text_splits(quotas: Dict[str, int], seed: int = 0,
                      grammar: Optional[Grammar] = None,
                      max_tries_factor: int = 50) -> Dict[str, List[Sentence]]:
    """Sample ``quotas[split]`` distinct sentences for each split.

    Args:
        quotas: number of sentences per split (keys from :data:`SPLITS`).
        seed: corpus seed.
        grammar: the grammar (default: packaged lexicon).
        max_tries_factor: give up after this many tries per requested sentence.

    Returns:
        split → list of sentences, in generation order.

    Raises:
        RuntimeError: the grammar could not produce enough distinct sentences.
    """
    grammar = grammar or Grammar()
    unknown = set(quotas) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown splits {sorted(unknown)}; expected a subset of {SPLITS}")
    banned = held_out_pairs(grammar, seed)
    seen_en, seen_es = set(), set()
    out: Dict[str, List[Sentence]] = {s: [] for s in quotas}

    def fresh(s: Sentence) -> bool:
        if s.en in seen_en or s.es in seen_es:
            return False
        seen_en.add(s.en)
        seen_es.add(s.es)
        return True

    rng = random.Random(f"text-{seed}")
    regular = [s for s in ("train", "dev", "test") if quotas.get(s, 0) > 0]
    remaining = {s: quotas[s] for s in regular}
    budget = max_tries_factor * max(1, sum(remaining.values()))
    while sum(remaining.values()) > 0:
        budget -= 1
        if budget < 0:
            raise RuntimeError(f"grammar produced too few distinct sentences for {quotas}")
        sent = grammar.sample(rng, banned)
        if not fresh(sent):
            continue
        split = rng.choices(regular, weights=[remaining[s] for s in regular])[0]
        out[split].append(sent)
        remaining[split] -= 1
        if remaining[split] == 0:
            regular = [s for s in regular if remaining[s] > 0]
            if not regular:
                break
    need = quotas.get("test_unseen", 0)
    urng = random.Random(f"unseen-{seed}")
    pairs = sorted(banned)
    budget = max_tries_factor * max(1, need)
    while len(out.get("test_unseen", [])) < need:
        budget -= 1
        if budget < 0:
            raise RuntimeError(f"could not build {need} test_unseen sentences")
        focus = urng.choice(pairs)
        sent = grammar.sample(urng, frozenset(), focus=focus)
        if focus in sent.pairs and fresh(sent):
            out["test_unseen"].append(sent)
    return out
