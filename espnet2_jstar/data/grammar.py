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

Pair = Tuple[str, str]  # (adjective, noun) English lemmas


@dataclass(frozen=True)
class Sentence:
    """One parallel sentence with the adjective–noun lemma pairs it contains."""

    en: str
    es: str
    template: str
    pairs: Tuple[Pair, ...] = ()


class _Phrase:
    """Parallel token lists being built, plus the adjective–noun pairs used."""

    def __init__(self) -> None:
        self.en: List[str] = []
        self.es: List[str] = []
        self.pairs: List[Pair] = []

    def add(self, en, es) -> "_Phrase":
        self.en += en.split() if isinstance(en, str) else list(en)
        self.es += es.split() if isinstance(es, str) else list(es)
        return self


def _contract(tokens: Sequence[str]) -> List[str]:
    """Spanish ``a el`` → ``al``, ``de el`` → ``del``."""
    out: List[str] = []
    for tok in tokens:
        if tok == "el" and out and out[-1] in ("a", "de"):
            out[-1] = out[-1] + "l" if out[-1] == "de" else "al"
        else:
            out.append(tok)
    return out


_SUBJ = {  # key: (en, es or "", person)
    "i": ("i", "", "1s"), "he": ("he", "él", "3s"), "she": ("she", "ella", "3s"),
    "we": ("we", "", "1p"), "they": ("they", "ellos", "3p"), "you": ("you", "", "2s")}
_BE = {"1s": "am", "2s": "are", "3s": "is", "1p": "are", "3p": "are"}
_DATIVE = {"1s": "me", "2s": "te", "1p": "nos"}
_ES_DET = {  # determiner → (masc sg, fem sg, masc pl, fem pl)
    "the": ("el", "la", "los", "las"), "a": ("un", "una", "unos", "unas"),
    "this": ("este", "esta", "estos", "estas"), "that": ("ese", "esa", "esos", "esas"),
    "my": ("mi", "mi", "mis", "mis"), "your": ("tu", "tu", "tus", "tus"),
    "our": ("nuestro", "nuestra", "nuestros", "nuestras")}
_DEFAULT_DETS = ("the", "the", "the", "a", "this", "that", "my", "your", "our")
_EN_PLURAL_DET = {"the": "the", "this": "these", "that": "those", "my": "my", "your": "your",
                  "our": "our", "a": "some"}


class Grammar:
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

    # ------------------------------------------------------------------ templates
    def _tense_adverb(self, rng, ph: _Phrase, tense: str) -> None:
        if rng.random() < 0.35:
            opts = [a for a in self.lex.adverbs if a[2] == tense]
            en, es, _ = rng.choice(opts)
            ph.add(en, es)

    def _object(self, rng, ph, verb: Verb, banned, focus=None) -> None:
        nouns = self.nouns_for(verb.objects)
        obj = _Phrase()
        noun, _ = self.random_np(rng, obj, nouns, banned, focus)
        ph.add([], ["a"] if noun.cls == "person" else [])  # personal "a"
        ph.add(obj.en, obj.es).pairs.extend(obj.pairs)

    def _verb_for(self, rng, frame: str, focus=None) -> Verb:
        verbs = [v for v in self.lex.verbs if v.frame == frame]
        if focus is not None:
            verbs = [v for v in verbs if focus[1] in self.nouns_for(v.objects)]
        return self._pick(rng, verbs)

    def t_transitive(self, rng, ph, banned, focus=None):
        verb = self._verb_for(rng, "trans", focus)
        tense = rng.choice(["present", "past", "future"])
        person = self.subject(rng, ph, banned)
        self.verb_group(rng, ph, verb, tense, person, rng.random() < 0.15)
        self._object(rng, ph, verb, banned, focus)
        self._tense_adverb(rng, ph, tense)

    def _place(self, rng, ph, nouns, banned, en_prep, es_prep):
        ph.add(en_prep, es_prep)
        self.random_np(rng, ph, nouns, banned, dets=("the", "the", "my", "our", "this", "that"),
                       p_plural=0.0, allow_count=False, p_adj=0.35)

    def t_motion(self, rng, ph, banned, focus=None):
        verb = self._verb_for(rng, "motion")
        tense = rng.choice(["present", "past", "future"])
        person = self.subject(rng, ph, banned)
        self.verb_group(rng, ph, verb, tense, person, rng.random() < 0.1)
        self._place(rng, ph, self.nouns_for(verb.objects), banned,
                    "at" if verb.en == "arrive" else "to", "a")
        self._tense_adverb(rng, ph, tense)

    def t_locative(self, rng, ph, banned, focus=None):
        verb = self._verb_for(rng, "loc")
        tense = rng.choice(["present", "past", "future"])
        person = self.subject(rng, ph, banned)
        self.verb_group(rng, ph, verb, tense, person, rng.random() < 0.1)
        self._place(rng, ph, self.nouns_for(verb.objects), banned, "in", "en")
        self._tense_adverb(rng, ph, tense)

    def t_copula(self, rng, ph, banned, focus=None):
        """``the houses are old`` / ``las casas son viejas`` (predicative agreement)."""
        noun = focus[1] if focus else self._pick(rng, self.countable)
        adj = focus[0] if focus else self._adj(rng, noun, banned)
        if adj is None:
            return self.t_where(rng, ph, banned)
        plural = not noun.mass and rng.random() < 0.35
        self.noun_phrase(rng, noun, ph, det=rng.choice(["the", "this", "that", "my", "our"]),
                         plural=plural)
        person = "3p" if plural else "3s"
        future = rng.random() < 0.25
        cop = self.lex.conjugate_es(adj.copula, "future" if future else "present", person)
        neg = rng.random() < 0.15
        en_be = ["will"] + (["not"] if neg else []) + ["be"] if future else \
            [_BE[person]] + (["not"] if neg else [])
        ph.add(en_be + [adj.en], (["no"] if neg else []) + [cop, adj.es(noun.gender, plural)])
        ph.pairs.append((adj.en, noun.en))

    def t_exist(self, rng, ph, banned, focus=None):
        """``there are three red apples in the kitchen`` / ``hay tres manzanas rojas en ...``."""
        noun = focus[1] if focus else self._pick(rng, self.nouns_for(
            ["food", "drink", "animal", "thing", "clothing", "vehicle", "person"]))
        adj = focus[0] if focus else (self._adj(rng, noun, banned) if rng.random() < 0.6 else None)
        count = 1 if noun.mass else rng.choice([1, 1, 2, 3, 4, 5, 6, 10, 12])
        ph.add("there " + ("is" if count == 1 else "are"), "hay")
        if count == 1:  # mass nouns are bare: "there is cold water" / "hay agua fría"
            self.noun_phrase(rng, noun, ph, det="" if noun.mass else "a", adj=adj)
        else:
            self.noun_phrase(rng, noun, ph, adj=adj, count=count)
        self._place(rng, ph, self.nouns_for(["place"]), banned, "in", "en")

    def t_where(self, rng, ph, banned, focus=None):
        sub = _Phrase()
        _, plural = self.random_np(rng, sub, self.nouns_for(CONCRETE), banned, focus,
                                   dets=("the", "the", "my", "your", "our"), allow_count=False)
        ph.add(["where", "are" if plural else "is"], ["dónde", "están" if plural else "está"])
        ph.add(sub.en, sub.es).pairs.extend(sub.pairs)

    def t_price(self, rng, ph, banned, focus=None):
        money = self._pick(rng, self.money)
        n = rng.choice(list(range(1, 21)) + [25, 30, 40, 50, 60, 75, 80, 99])
        sub = _Phrase()
        self.random_np(rng, sub, self.nouns_for(["food", "drink", "thing", "clothing", "vehicle"]),
                       banned, p_plural=0.0, allow_count=False, dets=("the", "this", "that"))
        if rng.random() < 0.5:
            ph.add(["how", "much", "does"] + sub.en + ["cost"], ["cuánto", "cuesta"] + sub.es)
        else:
            ph.add(sub.en + ["costs"], sub.es + ["cuesta"])
            self.noun_phrase(rng, money, ph, count=n) if n > 1 else ph.add(
                ["one", money.en], [es_number(1, money.gender), money.es])
        ph.pairs.extend(sub.pairs)

    def t_yes_no(self, rng, ph, banned, focus=None):
        """``did you see the black horse`` / ``viste el caballo negro``."""
        verb = self._verb_for(rng, "trans", focus)
        tense = rng.choice(["present", "past", "future"])
        aux = {"present": "do", "past": "did", "future": "will"}[tense]
        ph.add([aux, "you"] + verb.en.split(),
               [self.lex.conjugate_es(verb.es_inf, tense, "2s", verb.flags)])
        self._object(rng, ph, verb, banned, focus)
        self._tense_adverb(rng, ph, tense)

    def t_wh(self, rng, ph, banned, focus=None):
        kind = rng.choice(["what", "who", "where", "when", "howmany"])
        tense = rng.choice(["present", "past", "future"])
        aux = {"present": "do", "past": "did", "future": "will"}[tense]
        if kind == "what":
            verb = self._pick(rng, [v for v in self.lex.verbs if v.frame == "trans" and
                                    "person" not in v.objects])
            ph.add(["what", aux, "you"] + verb.en.split(),
                   ["qué", self.lex.conjugate_es(verb.es_inf, tense, "2s", verb.flags)])
        elif kind == "who":
            verb = self._verb_for(rng, "trans")
            ph.add("who", "quién")
            self.verb_group(rng, ph, verb, tense, "3s", False)
            self._object(rng, ph, verb, banned)
        elif kind == "where":
            verb = self._verb_for(rng, "loc")
            ph.add(["where", aux, "you"] + verb.en.split(),
                   ["dónde", self.lex.conjugate_es(verb.es_inf, tense, "2s", verb.flags)])
        elif kind == "when":
            noun = self._pick(rng, self.nouns_for(["vehicle", "person"]))
            which = rng.choice(["arrive", "come"])
            verb = next(v for v in self.lex.verbs if v.en == which)
            sub = _Phrase()
            self.noun_phrase(rng, noun, sub, det=rng.choice(["the", "my", "our"]))
            aux3 = {"present": "does", "past": "did", "future": "will"}[tense]
            ph.add(["when", aux3] + sub.en + verb.en.split(),
                   ["cuándo", self.lex.conjugate_es(verb.es_inf, tense, "3s")] + sub.es)
        else:
            noun = self._pick(rng, [n for n in self.nouns_for(["food", "thing", "clothing",
                                                               "animal"]) if not n.mass])
            how = "cuántos" if noun.gender == "m" else "cuántas"
            ph.add(["how", "many", noun.en_pl, aux, "you", "have"],
                   [how, noun.es_pl, self.lex.conjugate_es("tener", tense, "2s")])

    def t_like(self, rng, ph, banned, focus=None):
        """``i like the red apples`` / ``me gustan las manzanas rojas``."""
        tense = rng.choice(["present", "present", "past"])
        who = rng.choice(["i", "we", "he", "she", "they", "you"])
        en_s, es_s, person = _SUBJ[who]
        sub = _Phrase()
        _, plural = self.random_np(rng, sub, self.nouns_for(["food", "drink", "animal", "thing",
                                                             "clothing", "vehicle", "place"]),
                                   banned, focus, dets=("the", "this", "that", "my", "your", "our"),
                                   allow_count=False)
        neg = who != "you" and rng.random() < 0.15
        es_dat = _DATIVE.get(person) or ("le" if person == "3s" else "les")
        es_pre = ["a", es_s] if es_s else []
        es_v = ("gustan" if plural else "gusta") if tense == "present" else (
            "gustaron" if plural else "gustó")
        if who == "you":
            ph.add(["do" if tense == "present" else "did", "you", "like"], [es_dat, es_v])
        else:
            en_v = ("likes" if person == "3s" else "like") if tense == "present" else "liked"
            if neg:
                en_v = ("does not like" if person == "3s" else "do not like") \
                    if tense == "present" else "did not like"
            ph.add([en_s] + en_v.split(), es_pre + (["no"] if neg else []) + [es_dat, es_v])
        ph.add(sub.en, sub.es).pairs.extend(sub.pairs)

    def t_request(self, rng, ph, banned, focus=None):
        kind = rng.choice(["can", "give", "bring", "would", "give_end"])
        if kind == "can":
            verb = self._verb_for(rng, "trans", focus)
            ph.add(["can", "you"] + verb.en.split(), ["puedes", verb.es_inf])
            return self._object(rng, ph, verb, banned, focus)
        nouns = self.nouns_for(["food", "drink", "thing", "clothing"])
        if focus and focus[1] not in nouns:
            nouns = [focus[1]]
        head = {"give": ("please give me", "por favor dame"), "bring": ("please bring me",
                "por favor tráeme"), "would": ("i would like", "quisiera"),
                "give_end": ("give me", "dame")}[kind]
        ph.add(*head)
        self.random_np(rng, ph, nouns, banned, focus, dets=("the", "a", "this", "that"))
        if kind == "give_end":
            ph.add("please", "por favor")

    def t_time(self, rng, ph, banned, focus=None):
        events = self.nouns_for(["=class", "=meeting", "=party", "=movie"])
        noun = self._pick(rng, self.nouns_for(["vehicle"]) + events)
        hour = rng.randint(1, 12)
        self.noun_phrase(rng, noun, ph, det="the")
        es_hour = ["a", "la", "una"] if hour == 1 else ["a", "las", es_number(hour, "f")]
        verb = rng.choice([("leaves", "sale"), ("starts", "empieza"), ("arrives", "llega")])
        ph.add([verb[0], "at", en_number(hour)], [verb[1]] + es_hour)

    def t_phrase(self, rng, ph, banned, focus=None):
        en, es = rng.choice(self.lex.phrases)
        if "{name}" in en:
            name = rng.choice(self.lex.names)
            en, es = en.replace("{name}", name), es.replace("{name}", name)
        if "{country}" in en:
            c_en, c_es = rng.choice(self.lex.countries)
            en, es = en.replace("{country}", c_en), es.replace("{country}", c_es)
        ph.add(en, es)

    def t_answer(self, rng, ph, banned, focus=None):
        rel = rng.choice([("near", "cerca de"), ("next to", "al lado de"), ("in", "en"),
                          ("behind", "detrás de"), ("in front of", "delante de")])
        if rng.random() < 0.5:
            ph.add("it is", "está")
        else:
            sub = _Phrase()
            self.random_np(rng, sub, self.nouns_for(["thing", "animal", "person", "vehicle"]),
                           banned, dets=("the", "my", "your", "our"), p_plural=0.0,
                           allow_count=False, p_adj=0.3)
            ph.add(sub.en + ["is"], sub.es + ["está"]).pairs.extend(sub.pairs)
        self._place(rng, ph, self.nouns_for(["place"]), banned, *rel)

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
