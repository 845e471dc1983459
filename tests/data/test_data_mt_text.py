"""Extra text-only MT pairs: SOT format of data/train, eval sentences and held-out pairs
excluded, seeded, train lines kept first."""

import json

from espnet2_jstar.data.conversation import parse_sot
from espnet2_jstar.data.grammar import Grammar
from espnet2_jstar.data.mt_text import main, sample_pairs, write_mt_train
from espnet2_jstar.data.textsplits import build_text_splits, held_out_pairs


def _data_dir(tmp_path):
    """train (kaldi text) + test (segments.jsonl) + dev (kaldi text only) from the grammar."""
    splits = build_text_splits({"train": 6, "dev": 5, "test": 40}, seed=0)
    for split, sents in splits.items():
        d = tmp_path / split
        d.mkdir()
        src = [f"{split}_{i:06d} <self> {s.en}" for i, s in enumerate(sents)]
        tgt = [f"{split}_{i:06d} <self> {s.es}" for i, s in enumerate(sents)]
        (d / "src_text").write_text("\n".join(src) + "\n", encoding="utf-8")
        (d / "text").write_text("\n".join(tgt) + "\n", encoding="utf-8")
        if split == "test":
            with open(d / "segments.jsonl", "w", encoding="utf-8") as f:
                for i, s in enumerate(sents):
                    f.write(json.dumps({"utt_id": f"test_{i:06d}", "segments": [
                        {"speaker": "self", "lang": "en", "start": 0, "end": 1,
                         "src": s.en, "tgt": s.es}]}) + "\n")
    return splits


def test_pairs_are_sot_and_avoid_excluded_and_held_out(tmp_path):
    splits = _data_dir(tmp_path)
    n = write_mt_train(tmp_path, tmp_path / "mt_train", num_pairs=300, seed=0)
    src = (tmp_path / "mt_train/src_text").read_text(encoding="utf-8").splitlines()
    tgt = (tmp_path / "mt_train/text").read_text(encoding="utf-8").splitlines()
    assert n == len(src) == len(tgt) == 306
    assert src[:6] == (tmp_path / "train/src_text").read_text(encoding="utf-8").splitlines()
    assert [a.split()[0] for a in src] == [b.split()[0] for b in tgt]
    assert not list((tmp_path / "mt_train").glob("*.tmp"))
    banned_sents = {x for split in ("dev", "test") for s in splits[split] for x in (s.en, s.es)}
    held = held_out_pairs(Grammar(), 0)
    turns = set()
    for a, b in zip(src[6:], tgt[6:]):
        sa, sb = parse_sot(a.partition(" ")[2]), parse_sot(b.partition(" ")[2])
        assert [spk for spk, _ in sa] == [spk for spk, _ in sb] and 1 <= len(sa) <= 3
        assert all(x != y for (x, _), (y, _) in zip(sa, sa[1:]))  # speakers alternate
        for (_, ws), (_, wt) in zip(sa, sb):
            assert ws not in banned_sents and wt not in banned_sents
            turns.add(len(sa))
    assert turns == {1, 2, 3}
    assert not any(f" {adj} {noun} " in f" {a} " for adj, noun in held for a in src[6:])


def test_seeded_and_cli(tmp_path):
    _data_dir(tmp_path)
    a = sample_pairs(50, set(), seed=0, mt_seed=1)
    assert a == sample_pairs(50, set(), seed=0, mt_seed=1)
    assert a != sample_pairs(50, set(), seed=0, mt_seed=2)
    assert main(["--data_dir", str(tmp_path), "--out_dir", str(tmp_path / "o"),
                 "--num_pairs", "10"]) == 0
    assert len((tmp_path / "o/text").read_text().splitlines()) == 16
