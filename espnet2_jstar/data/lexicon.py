"""Bilingual English–Spanish lexicon and morphology for the synthetic corpus.

The word lists live in ``espnet2_jstar/data/lexicon/*.tsv`` (one entry per line, ``-`` where
a form follows the rules below) and ``es_verbs.json`` (irregular Spanish paradigms). This
module loads them and inflects:

* English: noun plurals, third-person singular, past tense, the ``a``/``an`` article.
* Spanish: noun and adjective plurals, adjective gender, present / preterite / future
  conjugation (regular rules, stem changes ``e→ie``, ``o→ue``, ``e→i``, ``u→ue``,
  ``-car/-gar/-zar`` spelling changes, irregular paradigms from ``es_verbs.json``).

All text is lowercase and punctuation-free; Spanish keeps its accents (UTF-8).

Usage:
    python -c "from espnet2_jstar.data.lexicon import load_lexicon; \
print(load_lexicon().summary())"
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
PERSONS = ("1s", "2s", "3s", "1p", "3p")
TENSES = ("present", "past", "future")
CONCRETE = ("food", "drink", "animal", "place", "thing", "clothing", "vehicle", "person", "nature")

_UNACCENT = str.maketrans("áéíóú", "aeiou")
_VOWELS = "aeiouáéíóú"


# ----------------------------------------------------------------------------- English


def en_plural(word: str) -> str:
    """Regular English plural (irregular ones are listed in nouns.tsv)."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def en_third_singular(verb: str) -> str:
    """``walk`` → ``walks``; inflects the first word of a phrasal verb (``waits for``)."""
    head, _, rest = verb.partition(" ")
    if head == "have":
        out = "has"
    elif head.endswith(("s", "x", "z", "ch", "sh", "o")):
        out = head + "es"
    elif head.endswith("y") and head[-2] not in "aeiou":
        out = head[:-1] + "ies"
    else:
        out = head + "s"
    return f"{out} {rest}".strip()


def en_past(verb: str) -> str:
    """Regular English past (``-ed``), on the first word of a phrasal verb."""
    head, _, rest = verb.partition(" ")
    if head.endswith("e"):
        out = head + "d"
    elif head.endswith("y") and head[-2] not in "aeiou":
        out = head[:-1] + "ied"
    else:
        out = head + "ed"
    return f"{out} {rest}".strip()


_AN_EXCEPT = {"uniform", "university", "useful", "unique", "european"}
_SILENT_H = {"hour", "honest", "honor"}


def en_indefinite(next_word: str) -> str:
    """``a`` or ``an`` before ``next_word``."""
    if next_word in _SILENT_H:
        return "an"
    if next_word[:1] in "aeiou" and next_word not in _AN_EXCEPT:
        return "an"
    return "a"


# ----------------------------------------------------------------------------- Spanish


def _count_vowel_groups(word: str) -> int:
    groups, prev = 0, False
    for ch in word:
        is_v = ch in _VOWELS
        groups += is_v and not prev
        prev = is_v
    return groups


def es_plural(word: str) -> str:
    """Regular Spanish plural of a noun or adjective (irregular ones are listed)."""
    if word[-1] in _VOWELS:
        return word + "s"
    if word.endswith("z"):
        return word[:-1] + "ces"
    if len(word) > 1 and word[-2] in "áéíóú" and word[-1] in "ns":
        return word[:-2] + word[-2].translate(_UNACCENT) + word[-1] + "es"
    if word.endswith("s") and _count_vowel_groups(word) > 1:
        return word  # unstressed final -s: invariant (paraguas, lunes)
    return word + "es"


def es_feminine(adj: str) -> str:
    """Feminine singular of a Spanish adjective given in the masculine singular."""
    if adj.endswith("o"):
        return adj[:-1] + "a"
    if adj.endswith("or"):
        return adj + "a"
    return adj


def _stem_change(stem: str, change: str) -> str:
    """Apply a stem change (``ie``, ``ue``, ``i``, ``u``) to the last matching vowel."""
    src = {"ie": "e", "ue": "o", "i": "e", "u": "o"}[change]
    if change == "ue" and "o" not in stem and "u" in stem:  # jugar: u → ue
        src = "u"
    idx = stem.rfind(src)
    if idx < 0:
        raise ValueError(f"cannot apply stem change {change!r} to {stem!r}")
    return stem[:idx] + change + stem[idx + 1:]


_PRESENT = {"ar": ["o", "as", "a", "amos", "an"], "er": ["o", "es", "e", "emos", "en"],
            "ir": ["o", "es", "e", "imos", "en"]}
_PAST = {"ar": ["é", "aste", "ó", "amos", "aron"], "er": ["í", "iste", "ió", "imos", "ieron"],
         "ir": ["í", "iste", "ió", "imos", "ieron"]}
_FUTURE = ["é", "ás", "á", "emos", "án"]


def es_conjugate(inf: str, tense: str, person: str, flags: Optional[Dict[str, str]] = None,
                 irregular: Optional[Dict[str, List[str]]] = None) -> str:
    """Conjugate a Spanish verb.

    Args:
        inf: infinitive (``comer``).
        tense: ``present``, ``past`` (preterite) or ``future``.
        person: one of ``1s 2s 3s 1p 3p``.
        flags: ``{"stem": "ie"|"ue"|"i", "pret": "i"|"u"}`` from verbs.tsv.
        irregular: the verb's entry of es_verbs.json (overrides the rules).
    """
    flags, irregular = flags or {}, irregular or {}
    p = PERSONS.index(person)
    if tense in irregular and tense != "future":
        return irregular[tense][p]
    if tense == "future":
        stem = irregular.get("future_stem", inf)
        return stem + _FUTURE[p]
    cls, stem = inf[-2:].translate(_UNACCENT), inf[:-2]
    if tense == "present":
        if "stem" in flags and person != "1p":
            stem = _stem_change(stem, flags["stem"])
        return stem + _PRESENT[cls][p]
    if tense == "past":
        if person == "1s" and cls == "ar":
            for end, repl in (("c", "qu"), ("g", "gu"), ("z", "c")):
                if stem.endswith(end):
                    stem = stem[: -len(end)] + repl
                    break
        if "pret" in flags and person in ("3s", "3p"):
            stem = _stem_change(stem, flags["pret"])
        return stem + _PAST[cls][p]
    raise ValueError(f"unknown tense {tense!r}")


# ----------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Noun:
    en: str
    en_pl: str
    es: str
    es_pl: str
    gender: str  # "m" | "f"
    cls: str
    el_fem: bool = False  # feminine noun taking "el"/"un" in the singular (el agua)
    mass: bool = False  # uncountable: never used with numbers or in the plural


@dataclass(frozen=True)
class Adjective:
    en: str
    es_ms: str
    es_fs: str
    es_mp: str
    es_fp: str
    copula: str  # "ser" | "estar"
    applies: Tuple[str, ...]

    def es(self, gender: str, plural: bool) -> str:
        """Spanish form agreeing with ``gender`` (m/f) and number."""
        return {(False, "m"): self.es_ms, (False, "f"): self.es_fs,
                (True, "m"): self.es_mp, (True, "f"): self.es_fp}[(plural, gender)]


@dataclass(frozen=True)
class Verb:
    en: str
    en_3s: str
    en_past: str
    es_inf: str
    frame: str  # trans | motion | loc
    objects: Tuple[str, ...]
    flags: Tuple[Tuple[str, str], ...] = ()

    def en_form(self, tense: str, person: str) -> List[str]:
        """English verb words for a tense and person (future: ``will`` + base)."""
        if tense == "future":
            return ["will"] + self.en.split()
        if tense == "past":
            return self.en_past.split()
        return (self.en_3s if person == "3s" else self.en).split()


@dataclass
class Lexicon:
    """All entries, plus look-ups by English lemma."""

    nouns: List[Noun]
    adjectives: List[Adjective]
    verbs: List[Verb]
    adverbs: List[Tuple[str, str, str]]
    phrases: List[Tuple[str, str]]
    names: List[str]
    countries: List[Tuple[str, str]]
    es_irregular: Dict[str, Dict[str, List[str]]]
    noun_by_en: Dict[str, Noun] = field(init=False)

    def __post_init__(self) -> None:
        self.noun_by_en = {n.en: n for n in self.nouns}
        for v in self.verbs:
            for o in v.objects:
                if o.startswith("=") and o[1:] not in self.noun_by_en:
                    raise ValueError(f"verbs.tsv: verb {v.en!r} names unknown noun {o[1:]!r}")
                if not o.startswith("=") and o not in CONCRETE + ("abstract", "*"):
                    raise ValueError(f"verbs.tsv: verb {v.en!r} names unknown class {o!r}")

    def conjugate_es(self, inf: str, tense: str, person: str, flags=()) -> str:
        """Spanish form of ``inf`` (irregular paradigms looked up automatically)."""
        return es_conjugate(inf, tense, person, dict(flags), self.es_irregular.get(inf))

    def content_words(self, lang: str) -> set:
        """Distinct content lemmas (nouns, adjectives, verbs, adverbs) in ``lang``."""
        if lang == "en":
            words = [n.en for n in self.nouns] + [a.en for a in self.adjectives]
            words += [v.en for v in self.verbs] + [a[0] for a in self.adverbs]
        else:
            words = [n.es for n in self.nouns] + [a.es_ms for a in self.adjectives]
            words += [v.es_inf for v in self.verbs] + [a[1] for a in self.adverbs]
        return set(words)

    def summary(self) -> str:
        return (f"{len(self.nouns)} nouns, {len(self.adjectives)} adjectives, {len(self.verbs)} "
                f"verbs, {len(self.adverbs)} adverbs; content words en="
                f"{len(self.content_words('en'))} es={len(self.content_words('es'))}")


def _rows(name: str, ncols: int) -> List[List[str]]:
    path = LEXICON_DIR / name
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != ncols:
            raise ValueError(f"{path}:{i}: expected {ncols} tab-separated columns, got {len(cols)}")
        rows.append([c.strip() for c in cols])
    return rows


def _or(value: str, default: str) -> str:
    return default if value == "-" else value


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """Load (once per process) the packaged lexicon."""
    nouns = [Noun(en, _or(epl, en_plural(en)), es, _or(spl, es_plural(es)), g, cls,
                  "el_fem" in flags.split(","), "mass" in flags.split(","))
             for en, epl, es, g, spl, cls, flags in _rows("nouns.tsv", 7)]
    adjs = []
    for en, ms, fs, mp, cop, applies in _rows("adjectives.tsv", 6):
        fs = _or(fs, es_feminine(ms))
        mp = _or(mp, es_plural(ms))
        fp = mp if fs == ms else es_plural(fs)
        classes = CONCRETE if applies == "*" else tuple(applies.split(","))
        adjs.append(Adjective(en, ms, fs, mp, fp, cop, classes))
    verbs = []
    for en, e3, ep, inf, frame, objs, flags in _rows("verbs.tsv", 7):
        fl = tuple(tuple(f.split(":")) for f in flags.split(",")) if flags != "-" else ()
        verbs.append(Verb(en, _or(e3, en_third_singular(en)), _or(ep, en_past(en)), inf, frame,
                          tuple(objs.split(",")), fl))
    adverbs = [tuple(r) for r in _rows("adverbs.tsv", 3)]
    phrases = [tuple(r) for r in _rows("phrases.tsv", 2)]
    proper = _rows("proper.tsv", 3)
    names = [en for kind, en, _ in proper if kind == "name"]
    countries = [(en, es) for kind, en, es in proper if kind == "country"]
    irregular = json.loads((LEXICON_DIR / "es_verbs.json").read_text(encoding="utf-8"))
    irregular.pop("_doc", None)
    return Lexicon(nouns, adjs, verbs, adverbs, phrases, names, countries, irregular)
