"""Sentence templates of the synchronous grammar (mixed into :class:`Grammar`).

Each ``t_<name>(rng, ph, banned, focus=None)`` appends parallel English/Spanish tokens to
``ph``; ``focus`` (an (adjective, noun) pair) must then appear in the sentence. Helpers
(``noun_phrase``, ``random_np``, ``subject``, ``verb_group``...) live in
:mod:`espnet2_jstar.data.grammar`.

Usage:
    python -m espnet2_jstar.data.grammar --seed 0 --num 10
"""

from __future__ import annotations

from typing import List, Tuple

from espnet2_jstar.data.lexicon import CONCRETE, Verb
from espnet2_jstar.data.numbers import en_number, es_number

Pair = Tuple[str, str]  # (adjective, noun) English lemmas


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


class TemplatesMixin:
    """The sentence templates; expects the attributes and helpers of ``Grammar``."""

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
