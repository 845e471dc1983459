"""Stage 1+2 on a tiny corpus: layout, reproducibility, channels, SNR, geometry, resume."""

import json
import math
import shutil

import numpy as np
import pytest
import soundfile as sf

from espnet2_jstar.data.array import ArrayGeometry
from espnet2_jstar.data.conversation import read_dry
from espnet2_jstar.data.room import GeometryError, SceneOptions, check_inside, sample_scene
from espnet2_jstar.data.simulate import simulate_array, simulate_utterance
from espnet2_jstar.data.validate import validate_data_dir

FAST = SceneOptions(max_order=6)


def _wavs(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.wav"))}


def test_dry_format(tiny_dry):
    convs = read_dry(tiny_dry / "train")
    assert [c["utt_id"] for c in convs] == ["train_000001", "train_000002", "train_000003"]
    for c in convs:
        langs = {s["speaker"]: s["lang"] for s in c["segments"]}
        assert langs.get("self", c["self_lang"]) == c["self_lang"]
        assert c["self_lang"] != c["other_lang"]
        starts = [s["start"] for s in c["segments"]]
        assert starts == sorted(starts) and c["segments"][-1]["end"] < c["duration"]
        spk = [s["speaker"] for s in c["segments"]]
        assert all(a != b for a, b in zip(spk, spk[1:]))  # turns alternate
        for s in c["segments"]:
            info = sf.info(s["wav"])
            assert info.samplerate == 16000
            assert math.isclose(info.frames / 16000, s["end"] - s["start"], abs_tol=2e-4)


def test_layout_and_reproducible(tiny_dry, tiny_sim, tmp_path):
    for split in ("train", "dev", "test", "test_unseen"):
        summary = validate_data_dir(tiny_sim / split, channels=7, sample_rate=16000)
        assert summary["channels"] == 7
    assert ArrayGeometry.from_json(tiny_sim / "train" / "array.json").num_channels == 7
    again = tmp_path / "again"
    simulate_array(tiny_dry, again, seed=0, nj=2, opts=FAST, splits=["train"])
    assert _wavs(again / "train") == _wavs(tiny_sim / "train")  # same seed, other nj
    other = tmp_path / "other"
    simulate_array(tiny_dry, other, seed=1, opts=FAST, splits=["dev"])
    assert _wavs(other / "dev") != _wavs(tiny_sim / "dev")


def test_single_channel(tiny_dry, tmp_path):
    simulate_array(tiny_dry, tmp_path, seed=0, single_channel=True, opts=FAST, splits=["test"])
    assert validate_data_dir(tmp_path / "test", channels=1)["channels"] == 1
    geo = json.loads((tmp_path / "test" / "array.json").read_text())
    assert len(geo["mic_positions"]) == 1


def test_snr_within_range(tiny_dry):
    geo = ArrayGeometry()
    for conv in read_dry(tiny_dry / "train"):
        opts = SceneOptions(max_order=4, snr_db=(10.0, 10.0))
        info, parts = simulate_utterance(conv, geo, opts, 0, return_components=True)
        ref = geo.reference_mic
        powers = [np.mean(parts["speech"][ref, parts[m]] ** 2)
                  for m in ("self_mask", "other_mask") if parts[m].any()]
        snr = 10 * np.log10(np.mean(powers) / np.mean(parts["noise"][ref] ** 2))
        assert abs(snr - 10.0) < 1.5, snr
        assert info["snr_db"] == 10.0


def test_impossible_geometry():
    rng = np.random.default_rng(0)
    tight = SceneOptions(room_min=(2.0, 2.0, 2.5), room_max=(2.0, 2.0, 2.5),
                         partner_distance=(3.0, 3.0))
    with pytest.raises(GeometryError, match="could not place"):
        sample_scene(rng, ArrayGeometry(), tight)
    with pytest.raises(GeometryError, match="outside the room"):
        check_inside([5.0, 1.0, 1.0], [4.0, 4.0, 3.0], "partner")
    with pytest.raises(GeometryError, match="room size"):
        SceneOptions(room_min=(5, 5, 3), room_max=(4, 4, 3)).validate()


def test_resume_after_interruption(tiny_dry, tiny_sim, tmp_path):
    out = tmp_path / "data"
    shutil.copytree(tiny_sim / "train", out / "train")
    wav = out / "train" / "wav" / "train_000002.wav"
    good = wav.read_bytes()
    wav.write_bytes(good[: len(good) // 3])  # killed half-way through a write
    (out / "train" / "wav" / "train_000003.wav.tmp").write_bytes(b"partial")
    (out / "train" / "wav.scp").unlink()
    before = (out / "train" / "wav" / "train_000001.wav").stat().st_mtime_ns
    simulate_array(tiny_dry, out, seed=0, opts=FAST, splits=["train"])
    assert wav.read_bytes() == good
    assert not list((out / "train" / "wav").glob("*.tmp"))
    assert (out / "train" / "wav" / "train_000001.wav").stat().st_mtime_ns == before  # skipped
    validate_data_dir(out / "train", channels=7)


def test_stage1_rerun_with_other_seed_regenerates(tmp_path):
    from espnet2_jstar.data.synthetic import prepare_mini_bilingual

    counts = {"train": 2}
    prepare_mini_bilingual(tmp_path / "a", "tiny", seed=0, counts=counts)
    prepare_mini_bilingual(tmp_path / "a", "tiny", seed=1, counts=counts)  # same folder
    prepare_mini_bilingual(tmp_path / "b", "tiny", seed=1, counts=counts)  # fresh folder
    assert _wavs(tmp_path / "a") == _wavs(tmp_path / "b")
    assert (tmp_path / "a" / "train" / "conversations.jsonl").read_text() == (
        tmp_path / "b" / "train" / "conversations.jsonl").read_text()
