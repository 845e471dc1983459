"""ESPnet ST baseline: st_inference output -> decode dir; st_train + st_inference smoke run."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from espnet2_jstar.bin import offline_st_to_decode_dir as conv
from espnet2_jstar.metrics.score import score_decode_dir
from espnet2_jstar.metrics.text import split_sot
from toydata import make_toy_dataset

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "conf/tuning/train_espnet_st_mini.yaml"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = make_toy_dataset(tmp_path_factory.mktemp("toy"), n=3)
    durs = conv.audio_durations(root)
    lines = []
    for line in open(root / "src_text", encoding="utf-8"):
        uid, text = line.rstrip("\n").split(maxsplit=1)
        segs = split_sot(text)
        d = durs[uid] / len(segs)
        lines.append(json.dumps({"utt_id": uid, "segments": [
            {"speaker": spk, "lang": "en", "start": k * d, "end": (k + 1) * d, "src": t}
            for k, (spk, t) in enumerate(segs)]}))
    (root / "segments.jsonl").write_text("\n".join(lines) + "\n")
    return root


HYP = {"utt000": ("<self>el caballo negro<other> the dog",
                  "<self> ▁el ▁caballo ▁ne gro <other> ▁the ▁dog"),
       "utt001": ("<self> hello", "<self> ▁hello"),
       "utt002": ("", "")}


def fake_st_dir(root: Path, layout: str = "1best", with_token: bool = True) -> Path:
    d = {"1best": root / "1best_recog", "merged": root,
         "logdir": root / "output.1" / "1best_recog"}[layout]
    d.mkdir(parents=True, exist_ok=True)
    (d / "text").write_text("".join(f"{u} {t}\n" for u, (t, _) in HYP.items()),
                            encoding="utf-8")
    if with_token:
        (d / "token").write_text("".join(f"{u} {p}\n" for u, (_, p) in HYP.items()),
                                 encoding="utf-8")
    return root


def read_jsonl(path):
    return {r["utt_id"]: r for r in map(json.loads, open(path, encoding="utf-8"))}


def test_convert_offline_times_and_score(toy, tmp_path):
    st = fake_st_dir(tmp_path / "st_inference")
    out = tmp_path / "decode"
    conv.main(["--st_inference_dir", str(st), "--data_dir", str(toy), "--output_dir", str(out),
               "--compute_seconds", "0.6", "--threads", "2"])
    assert not (out / "asr").exists()
    text = conv.read_kaldi(out / "st/text")
    assert text["utt000"] == "<self> el caballo negro <other> the dog"
    recs = read_jsonl(out / "tokens.jsonl")
    assert sorted(recs) == ["utt000", "utt001", "utt002"]
    assert sum(r["compute_seconds"] for r in recs.values()) == pytest.approx(0.6)
    durs = conv.audio_durations(toy)
    for u, r in recs.items():
        share = 0.6 * durs[u] / sum(durs.values())
        assert r["audio_seconds"] == pytest.approx(durs[u]) and r["threads"] == 2
        assert r["compute_seconds"] == pytest.approx(share)
        assert all(p["t"] == pytest.approx(durs[u], abs=1e-4)
                   and p["wall"] == pytest.approx(durs[u] + share, abs=1e-4) for p in r["st"])
    assert [p["piece"] for p in recs["utt000"]["st"]][3:5] == ["▁ne", "gro"]
    assert recs["utt002"]["st"] == []
    scores = score_decode_dir(out, toy)
    assert scores["asr"] is None and scores["st"]["bleu"] is not None
    lat = scores["st"]["latency"]
    assert lat["token_text_mismatch_utts"] == 0
    assert scores["rtf"] is not None


@pytest.mark.parametrize("layout", ["merged", "logdir"])
def test_other_layouts_and_word_pieces(toy, tmp_path, layout):
    st = fake_st_dir(tmp_path / "st", layout=layout, with_token=False)
    out = tmp_path / "decode"
    assert conv.convert(st, toy, out, compute_seconds=0.0) == 3
    recs = read_jsonl(out / "tokens.jsonl")
    assert [p["piece"] for p in recs["utt000"]["st"]] == [
        "<self>", "▁el", "▁caballo", "▁negro", "<other>", "▁the", "▁dog"]
    assert all(p["wall"] == p["t"] for p in recs["utt001"]["st"])


def test_errors_name_the_problem(toy, tmp_path):
    with pytest.raises(FileNotFoundError, match="st_inference"):
        conv.convert(tmp_path, toy, tmp_path / "o", 1.0)
    st = fake_st_dir(tmp_path / "st")
    with open(st / "1best_recog/text", "a") as f:
        f.write("utt999 hola\n")
    with pytest.raises(ValueError, match="utt999"):
        conv.convert(st, toy, tmp_path / "o", 1.0)
    with pytest.raises(ValueError, match="compute_seconds"):
        conv.convert(st, toy, tmp_path / "o", -1.0)


def _run(args, log: Path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with open(log, "w") as f:
        r = subprocess.run([sys.executable, "-m", *args], stdout=f, stderr=subprocess.STDOUT,
                           env=env)
    assert r.returncode == 0, log.read_text()[-3000:]


@pytest.mark.slow
def test_espnet_st_train_and_inference_smoke(toy, tmp_path):
    """The shipped ESPnet ST config: collect_stats, 1 epoch, st_inference, convert, score."""
    conf = yaml.safe_load(CONFIG.read_text())
    assert conf["encoder_conf"]["output_size"] == 144 and conf["model_conf"]["asr_weight"] > 0
    bpe = toy / "bpe"
    common = [
        "--config", str(CONFIG), "--token_list", str(bpe / "tokens.txt"),
        "--bpemodel", str(bpe / "bpe.model"), "--src_token_list", str(bpe / "tokens.txt"),
        "--src_bpemodel", str(bpe / "bpe.model"), "--ngpu", "0", "--num_workers", "0",
        "--use_tensorboard", "false", "--num_att_plot", "0",
    ]
    for split in ("train", "valid"):
        common += [f"--{split}_data_path_and_name_and_type", f"{toy}/wav.scp,speech,sound",
                   f"--{split}_data_path_and_name_and_type", f"{toy}/text,text,text",
                   f"--{split}_data_path_and_name_and_type", f"{toy}/src_text,src_text,text"]
    stats, exp = tmp_path / "stats", tmp_path / "exp"
    _run(["espnet2.bin.st_train", *common, "--collect_stats", "true",
          "--output_dir", str(stats), "--train_shape_file", f"{toy}/wav.scp",
          "--valid_shape_file", f"{toy}/wav.scp"], tmp_path / "stats.log")
    assert (stats / "train/feats_stats.npz").is_file()
    _run(["espnet2.bin.st_train", *common, "--output_dir", str(exp),
          "--normalize", "global_mvn",
          "--normalize_conf", f"stats_file={stats}/train/feats_stats.npz",
          "--train_shape_file", f"{stats}/train/speech_shape",
          "--valid_shape_file", f"{stats}/valid/speech_shape", "--fold_length", "80000",
          "--max_epoch", "1", "--batch_size", "2"], tmp_path / "train.log")
    model = exp / "valid.acc.ave.pth"
    assert model.is_file() and (exp / "config.yaml").is_file()
    dec = tmp_path / "st_inference"
    t0 = time.perf_counter()
    _run(["espnet2.bin.st_inference", "--st_train_config", str(exp / "config.yaml"),
          "--st_model_file", str(model), "--data_path_and_name_and_type",
          f"{toy}/wav.scp,speech,sound", "--output_dir", str(dec), "--ngpu", "0",
          "--batch_size", "1", "--beam_size", "2", "--maxlenratio", "0.3"],
         tmp_path / "inference.log")
    seconds = time.perf_counter() - t0
    assert len((dec / "1best_recog/text").read_text().splitlines()) == 3
    out = tmp_path / "decode"
    conv.main(["--st_inference_dir", str(dec), "--data_dir", str(toy), "--output_dir", str(out),
               "--compute_seconds", f"{seconds:.3f}"])
    scores = score_decode_dir(out, toy)
    assert scores["utts"] == 3 and scores["st"] is not None and scores["asr"] is None


@pytest.mark.parametrize("name,decode", [("train_espnet_st_mini", "decode_st"),
                                         ("train_espnet_st_ctc_mini", "decode_st_ctc")])
def test_shipped_espnet_st_configs_build_and_match_their_decoding(toy, name, decode):
    """Each ESPnet ST config builds through ESPnet's STTask; a decoding config that weighs the
    ST CTC goes with a model that has one (st_inference asserts it), and the other way round."""
    from espnet2.tasks.st import STTask

    bpe = toy / "bpe"
    args = STTask.get_parser().parse_args([
        "--config", str(REPO / "conf" / f"{name}.yaml"), "--token_list", str(bpe / "tokens.txt"),
        "--bpemodel", str(bpe / "bpe.model"), "--src_token_list", str(bpe / "tokens.txt"),
        "--src_bpemodel", str(bpe / "bpe.model")])
    model = STTask.build_model(args)
    ctc_weight = yaml.safe_load((REPO / "conf" / f"{decode}.yaml").read_text())["ctc_weight"]
    assert (ctc_weight > 0) == (model.st_mtlalpha > 0) == hasattr(model, "st_ctc")
    assert (model.hier_encoder is not None) == (model.st_mtlalpha > 0)
    # the pre-training files --st_pretrain finds beside --st_config, with a matching encoder
    for part in ("asr", "mt"):
        assert (REPO / "conf" / f"{name}_{part}.yaml").is_file()
    asr = yaml.safe_load((REPO / "conf" / f"{name}_asr.yaml").read_text())
    assert asr["encoder_conf"] == args.encoder_conf
    speech = torch.randn(2, 8000)
    lengths = torch.tensor([8000, 6000])
    text = torch.tensor([[5, 6, 7], [8, 9, -1]])
    text_lengths = torch.tensor([3, 2])
    loss, stats, _ = model(speech, lengths, text, text_lengths, text, text_lengths)
    assert torch.isfinite(loss)
    assert (stats["loss_st_ctc"] is not None and stats["loss_st_ctc"] > 0) == (ctc_weight > 0)
