"""MC-FLEURS preparation end to end on a small fixture laid out like google/fleurs."""

import numpy as np
import pytest
import soundfile as sf

from espnet2_jstar.data.conversation import parse_sot, read_dry
from espnet2_jstar.data.fleurs import download_fleurs, normalize_text, prepare_fleurs
from espnet2_jstar.data.room import SceneOptions
from espnet2_jstar.data.simulate import simulate_array
from espnet2_jstar.data.validate import validate_data_dir

SENTENCES = {  # FLORES id → (English, Spanish)
    "101": ("The house is big.", "La casa es grande."),
    "102": ("Where is the train?", "¿Dónde está el tren?"),
    "103": ("I like coffee, thanks!", "Me gusta el café, ¡gracias!"),
    "104": ("Only English has this one.", None),
}


def _fixture(root):
    rng = np.random.default_rng(0)
    for lang, col, sr in (("en_us", 0, 16000), ("es_419", 1, 22050)):
        for split in ("train", "dev", "test"):
            audio = root / lang / "audio" / split
            audio.mkdir(parents=True)
            rows = []
            for sid, texts in SENTENCES.items():
                if texts[col] is None:
                    continue
                for rec in range(2 if split == "train" else 1):  # several speakers per id
                    name = f"{lang}_{split}_{sid}_{rec}.wav"
                    t = np.arange(int(0.6 * sr)) / sr
                    tone = 0.3 * np.sin(2 * np.pi * (200 + 50 * rec) * t) * np.hanning(t.size)
                    x = np.concatenate([np.zeros(sr // 5), tone, np.zeros(sr // 5)])
                    sf.write(audio / name, x + 1e-4 * rng.standard_normal(x.size), sr)
                    raw = texts[col]
                    chars = " ".join(raw.lower().replace(" ", "|"))
                    rows.append("\t".join([sid, name, raw, raw.lower().strip(".?!¿¡"), chars,
                                           str(x.size), "FEMALE"]))
            (root / lang / f"{split}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_normalize_text():
    assert normalize_text("¿Dónde está el tren?") == "dónde está el tren"
    assert normalize_text("It's 5 o'clock, <ok>") == "it's 5 o'clock ok"


def test_fleurs_end_to_end(tmp_path):
    root = tmp_path / "fleurs"
    _fixture(root)
    dry = tmp_path / "dry"
    counts = prepare_fleurs(root, dry, seed=0, conversation_prob=0.5)
    assert set(counts) == {"train", "dev", "test"} and 6 <= counts["train"] < 12
    en = {sid: normalize_text(e) for sid, (e, s) in SENTENCES.items()}
    es = {sid: normalize_text(s) for sid, (e, s) in SENTENCES.items() if s}
    n_turns = 0
    for conv in read_dry(dry / "train"):
        for seg in conv["segments"]:
            sid = seg["fleurs_id"]
            assert sid != "104"  # no Spanish pair
            src, tgt = (en, es) if seg["lang"] == "en" else (es, en)
            assert seg["src"] == src[sid] and seg["tgt"] == tgt[sid]
            assert abs(seg["end"] - seg["start"] - 0.6) < 0.05  # silence trimmed
            n_turns += 1
        langs = {s["speaker"]: s["lang"] for s in conv["segments"]}
        if "self" in langs:
            assert langs["self"] == conv["self_lang"]
        assert [p[0] for p in parse_sot(conv["src_text"])] == [
            s["speaker"] for s in conv["segments"]]
    assert n_turns == 12  # every paired recording used once (3 ids x 2 speakers x 2 languages)
    out = tmp_path / "data"
    simulate_array(dry, out, seed=0, opts=SceneOptions(max_order=4))
    for split in ("train", "dev", "test"):
        validate_data_dir(out / split, channels=7, sample_rate=16000)


def test_missing_layout_and_download_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="en_us"):
        prepare_fleurs(tmp_path / "nothing", tmp_path / "dry")
    import builtins

    real_import = builtins.__import__

    def no_hub(name, *args, **kwargs):
        if name.startswith("huggingface_hub"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hub)
    with pytest.raises(RuntimeError, match="huggingface_hub"):
        download_fleurs(tmp_path / "dl")
