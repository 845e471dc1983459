"""Seeded synchronous English–Spanish grammar for the synthetic conversational corpus.

Every rule expands to a *pair* of token sequences that are translations of each other:
noun phrases reorder adjectives (``the black horse`` → ``el caballo negro``), articles,
demonstratives, possessives, numbers and adjectives agree in gender and number, verbs are
conjugated for five persons and three tenses (present, past, future), and there are
statements, negations, yes/no and wh-questions, requests, prices, times, ``gustar``
constructions and set phrases (greetings, courtesy).

Text is lowercase and punctuation-free (no ``¿?``); Spanish keeps accents. To keep both
directions deterministic, Spanish subject pronouns are dropped for ``yo``/``tú``/``nosotros``
(the verb ending marks the person) and ``you`` appears only in questions and requests.

Usage:
    python -m espnet2_jstar.data.grammar --seed 0 --num 10
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from typing import FrozenSet, List, Optional, Sequence, Tuple

from espnet2_jstar.data.lexicon import (
    CONCRETE, Adjective, Lexicon, Noun, Verb, en_indefinite, load_lexicon)
from espnet2_jstar.data.numbers import en_number, es_number
from espnet2_jstar.data.templates import _ES_DET, _SUBJ, Pair, TemplatesMixin, _Phrase


@dataclass(frozen=True)
class Sentence:
    """One parallel sentence with the adjective–noun lemma pairs it contains."""

    en: str
    es: str
    template: str
    pairs: Tuple[Pair, ...] = ()


def _contract(tokens: Sequence[str]) -> List[str]:
    """Spanish ``a el`` → ``al``, ``de el`` → ``del``."""
    out: List[str] = []
    for tok in tokens:
        if tok == "el" and out and out[-1] in ("a", "de"):
            out[-1] = out[-1] + "l" if out[-1] == "de" else "al"
        else:
            out.append(tok)
    return out


_DEFAULT_DETS = ("the", "the", "the", "a", "this", "that", "my", "your", "our")
_EN_PLURAL_DET = {"the": "the", "this": "these", "that": "those", "my": "my", "your": "your",
                  "our": "our", "a": "some"}


class Grammar(TemplatesMixin):
    """Sample parallel sentences.

    Args:
        lexicon: the bilingual lexicon (default: the packaged one).
        zipf: exponent of the rank-based word weights (0 = uniform).
    """

    def __init__(self, lexicon: Optional[Lexicon] = None, zipf: float = 0.7) -> None:
        self.lex = lexicon or load_lexicon()
        self.zipf = zipf
        self.countable = [n for n in self.lex.nouns if n.cls != "money"]
        self.money = [n for n in self.lex.nouns if n.cls == "money"]
        self.templates = [
            (self.t_transitive, 20), (self.t_motion, 6), (self.t_locative, 5), (self.t_copula, 8),
            (self.t_exist, 5), (self.t_where, 5), (self.t_price, 5), (self.t_yes_no, 8),
            (self.t_wh, 6), (self.t_like, 6), (self.t_request, 7), (self.t_time, 3),
            (self.t_phrase, 8), (self.t_answer, 5)]
        # templates that can place a given (adjective, noun) pair (for test_unseen)
        self.focus_templates = [self.t_transitive, self.t_copula, self.t_exist, self.t_where,
                                self.t_yes_no, self.t_like, self.t_request]

    # ------------------------------------------------------------------ sampling helpers
    def _pick(self, rng: random.Random, items: Sequence, alpha: Optional[float] = None):
        alpha = self.zipf if alpha is None else alpha
        weights = [1.0 / (i + 2) ** alpha for i in range(len(items))]
        return rng.choices(items, weights=weights)[0]

    def adjectives_for(self, noun: Noun) -> List[Adjective]:
        return [a for a in self.lex.adjectives if noun.cls in a.applies]

    def nouns_for(self, spec: Sequence[str]) -> List[Noun]:
        """Nouns matching class names, ``*`` (all concrete) or ``=lemma`` entries."""
        classes = set(CONCRETE) if "*" in spec else {s for s in spec if not s.startswith("=")}
        named = {s[1:] for s in spec if s.startswith("=")}
        return [n for n in self.countable if n.cls in classes or n.en in named]

    def _adj(self, rng, noun: Noun, banned: FrozenSet[Pair]) -> Optional[Adjective]:
        options = [a for a in self.adjectives_for(noun) if (a.en, noun.en) not in banned]
        return self._pick(rng, options) if options else None

    # ------------------------------------------------------------------ noun phrases
    def noun_phrase(self, rng, noun: Noun, ph: _Phrase, *, det: str = "the", plural: bool = False,
                    adj: Optional[Adjective] = None, count: int = 0) -> bool:
        """Append ``det [adj] noun`` / ``det noun [adj]`` with agreement; returns plural.

        ``count`` > 0 replaces the determiner by a number (plural when > 1); ``det=""``
        gives a bare noun (mass nouns: ``cold water`` / ``agua fría``).
        """
        plural = plural or count > 1
        g = noun.gender
        en_noun, es_noun = (noun.en_pl, noun.es_pl) if plural else (noun.en, noun.es)
        en_head = [adj.en, en_noun] if adj else [en_noun]
        if count:
            en_det, es_det = [en_number(count)], [es_number(count, g)]
        elif not det:
            en_det, es_det = [], []
        elif plural:
            en_det, es_det = [_EN_PLURAL_DET[det]], [_ES_DET[det][2 if g == "m" else 3]]
        else:
            idx = 0 if (g == "m" or (noun.el_fem and det in ("the", "a"))) else 1
            en_det = [en_indefinite(en_head[0]) if det == "a" else det]
            es_det = [_ES_DET[det][idx]]
        ph.add(en_det + en_head, es_det + [es_noun] + ([adj.es(g, plural)] if adj else []))
        if adj:
            ph.pairs.append((adj.en, noun.en))
        return plural

    def random_np(self, rng, ph: _Phrase, nouns: Sequence[Noun], banned, focus=None,
                  p_adj: float = 0.5, dets=_DEFAULT_DETS, p_plural: float = 0.3,
                  allow_count: bool = True) -> Tuple[Noun, bool]:
        """Sample and append a noun phrase; ``focus`` forces an (adjective, noun) pair.

        Returns the noun and whether the phrase is plural.
        """
        if focus is not None:
            adj, noun = focus
        else:
            noun = self._pick(rng, nouns)
            adj = self._adj(rng, noun, banned) if rng.random() < p_adj else None
        det = rng.choice(dets)
        plural = not noun.mass and rng.random() < p_plural
        count = 0
        if allow_count and not noun.mass and rng.random() < 0.15:
            count = rng.choice([2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20])
        if det == "a" and noun.mass:
            det = "the"
        return noun, self.noun_phrase(rng, noun, ph, det=det, plural=plural, adj=adj, count=count)

    def subject(self, rng, ph: _Phrase, banned, allow_you=False) -> str:
        """Append a subject; returns the person (1s 2s 3s 1p 3p)."""
        keys = ["i", "he", "she", "we", "they"] + (["you"] if allow_you else [])
        if rng.random() < 0.3:
            pl = rng.random() < 0.3
            _, plural = self.random_np(rng, ph, self.nouns_for(["person", "animal"]), banned,
                                       dets=("the", "my", "our", "this"), p_plural=float(pl),
                                       allow_count=False, p_adj=0.3)
            return "3p" if plural else "3s"
        en, es, person = _SUBJ[rng.choice(keys)]
        ph.add(en, es)
        return person

    def verb_group(self, rng, ph: _Phrase, verb: Verb, tense: str, person: str,
                   negative: bool, question: bool = False) -> None:
        """Append the conjugated verb (with English do-support for negation)."""
        es_v = self.lex.conjugate_es(verb.es_inf, tense, person, verb.flags)
        base = verb.en.split()
        if negative:
            aux = {"present": "does" if person == "3s" else "do", "past": "did",
                   "future": "will"}[tense]
            ph.add([aux, "not"] + base, ["no", es_v])
        else:
            ph.add(verb.en_form(tense, person), [es_v])

    # ------------------------------------------------------------------ entry point
    def sample(self, rng: random.Random, banned: FrozenSet[Pair] = frozenset(),
               focus: Optional[Pair] = None) -> Sentence:
        """Sample one parallel sentence.

        Args:
            rng: source of randomness (the only one used).
            banned: (adjective, noun) pairs that must not appear.
            focus: an (adjective, noun) pair the sentence must contain.
        """
        ph = _Phrase()
        if focus is not None:
            adj = next(a for a in self.lex.adjectives if a.en == focus[0])
            fn = rng.choice(self.focus_templates)
            fn(rng, ph, banned, (adj, self.lex.noun_by_en[focus[1]]))
        else:
            fns, weights = zip(*self.templates)
            fn = rng.choices(fns, weights=weights)[0]
            fn(rng, ph, banned)
        name = fn.__name__[2:]
        return Sentence(" ".join(ph.en), " ".join(_contract(ph.es)), name, tuple(ph.pairs))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num", type=int, default=20)
    args = parser.parse_args(argv)
    rng, g = random.Random(args.seed), Grammar()
    for _ in range(args.num):
        s = g.sample(rng)
        print(f"[{s.template}] {s.en}  |||  {s.es}")


if __name__ == "__main__":
    main()
