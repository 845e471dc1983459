"""Grammar, lexicon and split properties of the synthetic bilingual corpus."""

import random

import pytest

from espnet2_jstar.data.conversation import parse_sot, sot
from espnet2_jstar.data.grammar import Grammar, _Phrase
from espnet2_jstar.data.lexicon import (en_past, en_third_singular, es_plural, load_lexicon)
from espnet2_jstar.data.numbers import en_number, es_number
from espnet2_jstar.data.textsplits import build_text_splits, held_out_pairs


@pytest.fixture(scope="module")
def grammar():
    return Grammar()


def _np(g, noun, **kw):
    lex = g.lex
    ph = _Phrase()
    adj = kw.pop("adj", None)
    adj = next(a for a in lex.adjectives if a.en == adj) if adj else None
    g.noun_phrase(random.Random(0), lex.noun_by_en[noun], ph, adj=adj, **kw)
    return " ".join(ph.en), " ".join(ph.es)


def test_lexicon_size_and_one_to_one():
    lex = load_lexicon()
    assert len(lex.content_words("en")) >= 400
    assert len(lex.content_words("es")) >= 400
    for attr in ("en", "es"):
        words = [getattr(n, attr) for n in lex.nouns]
        assert len(words) == len(set(words)), f"duplicate {attr} nouns"


def test_reordering_and_agreement(grammar):
    assert _np(grammar, "horse", adj="black") == ("the black horse", "el caballo negro")
    assert _np(grammar, "house", adj="black", plural=True) == ("the black houses",
                                                               "las casas negras")
    assert _np(grammar, "man", adj="old", det="a") == ("an old man", "un hombre viejo")
    assert _np(grammar, "water", adj="cold") == ("the cold water", "el agua fría")
    assert _np(grammar, "house", count=21) == ("twenty one houses", "veintiuna casas")
    assert _np(grammar, "car", adj="happy", det="our", plural=True) == (
        "our happy cars", "nuestros coches felices")
    assert _np(grammar, "hour", det="a") == ("an hour", "una hora")


def test_morphology():
    lex = load_lexicon()
    conj = lex.conjugate_es
    assert conj("comer", "present", "3p") == "comen"
    assert conj("ir", "past", "1s") == "fui"
    assert conj("tener", "future", "2s") == "tendrás"
    assert conj("encontrar", "present", "1s", (("stem", "ue"),)) == "encuentro"
    assert conj("encontrar", "present", "1p", (("stem", "ue"),)) == "encontramos"
    assert conj("buscar", "past", "1s") == "busqué"
    assert conj("pedir", "past", "3s", (("stem", "i"), ("pret", "i"))) == "pidió"
    assert en_third_singular("watch") == "watches" and en_third_singular("study") == "studies"
    assert en_third_singular("wait for") == "waits for" and en_past("study") == "studied"
    assert es_plural("estación") == "estaciones" and es_plural("lápiz") == "lápices"
    assert en_number(47) == "forty seven" and es_number(31, "f") == "treinta y una"


def test_sampled_pairs_agree(grammar):
    rng = random.Random(3)
    lex = grammar.lex
    adjs = {a.en: a for a in lex.adjectives}
    checked = 0
    for _ in range(400):
        s = grammar.sample(rng)
        if s.template == "copula":
            continue
        for a_en, n_en in s.pairs:
            a, n = adjs[a_en], lex.noun_by_en[n_en]
            en_ok = f"{a.en} {n.en}" in s.en or f"{a.en} {n.en_pl}" in s.en
            es_ok = (f"{n.es} {a.es(n.gender, False)}" in s.es
                     or f"{n.es_pl} {a.es(n.gender, True)}" in s.es)
            assert en_ok and es_ok, (s, a_en, n_en)
            checked += 1
    assert checked > 50


def test_seeded_determinism(grammar):
    a = [grammar.sample(random.Random(7)) for _ in range(3)]
    b = [grammar.sample(random.Random(7)) for _ in range(3)]
    assert a == b
    s1 = build_text_splits({"train": 60, "test": 10, "test_unseen": 10}, seed=1)
    s2 = build_text_splits({"train": 60, "test": 10, "test_unseen": 10}, seed=1)
    s3 = build_text_splits({"train": 60, "test": 10, "test_unseen": 10}, seed=2)
    assert s1 == s2 and s1 != s3


def test_splits_disjoint_and_unseen(grammar):
    splits = build_text_splits({"train": 400, "dev": 40, "test": 40, "test_unseen": 40}, seed=0)
    assert {k: len(v) for k, v in splits.items()} == {"train": 400, "dev": 40, "test": 40,
                                                      "test_unseen": 40}
    train_en = {s.en for s in splits["train"]}
    train_es = {s.es for s in splits["train"]}
    for name in ("dev", "test", "test_unseen"):
        for s in splits[name]:
            assert s.en not in train_en and s.es not in train_es
    banned = held_out_pairs(grammar, 0)
    train_pairs = {p for s in splits["train"] for p in s.pairs}
    assert not train_pairs & banned
    for s in splits["test_unseen"]:
        assert set(s.pairs) - train_pairs, f"no unseen combination in {s}"


def test_sot_round_trip():
    segs = [{"speaker": "other", "start": 2.0, "src": "está cerca del río"},
            {"speaker": "self", "start": 0.1, "src": "where is the train station"}]
    text = sot(segs, "src")
    assert text == "<self> where is the train station <other> está cerca del río"
    assert parse_sot(text) == [("self", "where is the train station"),
                               ("other", "está cerca del río")]
    with pytest.raises(ValueError):
        parse_sot("hello <self> x")
