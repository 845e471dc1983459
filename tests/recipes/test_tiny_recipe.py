"""The whole mini_bilingual recipe at the ``tiny`` scale, end to end (CI).

Checks that every stage produced its outputs, that the results table parses and has a row
per system, and what the recipe's options make of the runs (ESPnet ST pre-training, the CTC
bridge, the ablations). The shared run is the ``recipe`` fixture (conftest.py); re-runs and
resuming are in test_tiny_recipe_rerun.py, the failure paths in test_tiny_recipe_failures.py.
"""

import os
import re
import shlex
import shutil
import sys

import pytest
import torch

from espnet2_jstar.bin.make_results import parse_results_table
from tiny_recipe_util import DECODE_ARGS, decode_commands, run

pytestmark = pytest.mark.slow


def test_every_stage_produced_outputs(recipe):
    tmp, _ = recipe
    for split in ("train", "dev", "test", "test_unseen"):
        for f in ("wav.scp", "src_text", "text", "segments.jsonl", "array.json"):
            assert (tmp / "data" / split / f).stat().st_size > 0
    assert (tmp / "data/token_list/bpe300/bpe.model").exists()
    for exp in ("mt", "mt_char", "jstar", "cascade_asr", "espnet_st", "espnet_st_asr",
                "espnet_st_mt"):
        assert (tmp / "exp" / exp / ".done").exists()
        assert (tmp / "exp" / exp / "config.yaml").exists()
    assert not (tmp / "exp/jstar/decode_test_unseen").exists()  # --test_sets test
    for d in ("jstar/decode_test", "cascade/decode_test", "espnet_st/decode_test",
              "jstar/decode_test_slowchunk16", "mt/decode_test", "mt_char/decode_test"):
        assert (tmp / "exp" / d / "score.json").exists(), d
    assert (tmp / "exp/jstar/decode_test/tokens.jsonl").stat().st_size > 0
    # the ESPnet ST baseline decodes its n-best average, not whichever epoch file sorts first
    cmds = (tmp / "exp/commands.txt").read_text()
    assert "--st_model_file " + str(tmp / "exp/espnet_st/valid.acc.ave.pth") in cmds
    # --train_jobs 2 on CPU: each training gets its share of the cores, not all of them: the
    # two MTs of stage 4 (BPE for the cascade, characters for the bridge) train side by side,
    # then the baselines (--asr_init true: in stage 5, as slots free up) and JSTAR beside the
    # ESPnet ST baseline (after its ASR and MT); a single MT (test_no_bridge_ablation) keeps
    # every core
    threads = max(1, len(os.sched_getaffinity(0)) // 2)
    train_lines = [c for c in cmds.splitlines() if "--resume true" in c]
    assert len(train_lines) == 7
    assert all(c.startswith(f"OMP_NUM_THREADS={threads} ") for c in train_lines), train_lines
    # --beam_size (here 1; run.sh: 4) reaches every transducer search: JSTAR, the MTs alone,
    # and the cascade's ASR and MT
    options = (tmp / "exp/run_options.txt").read_text().splitlines()
    beam = dict(line.split("=", 1) for line in options)["beam_size"]
    assert beam == "1"
    decodes = decode_commands(tmp / "exp")
    assert len(decodes) == 5 and all(f"--beam_size {beam} " in c for c in decodes), decodes
    assert all(f"--mt_beam_size {beam} " in c for c in decodes if ".cascade_inference" in c)
    # --jstar_decode_args reach every JSTAR decoding (sweep too), --cascade_decode_args the cascade
    assert all(("--st_blank_penalty 0.5 " in c) == (".jstar_inference " in c) for c in decodes)
    assert all(("--asr_blank_penalty 0.5 --mt_blank_penalty 0.5 " in c)
               == (".cascade_inference " in c) for c in decodes)
    # run.sh's --slow_chunk_size 8 sets JSTAR's default decoding, the sweep point its own
    chunks = [re.findall(r"--slow_chunk_size (\d+) ", c)
              for c in decodes if ".jstar_inference " in c]
    assert sorted(chunks) == [["16"], ["8"]], chunks
    assert "--output_dir " + str(tmp / "exp/jstar/decode_test_slowchunk16") in \
        next(c for c in decodes if "--slow_chunk_size 16 " in c)
    # ESPnet ST decodes with the thread count its decode dir reports (--decode_threads 1)
    st_lines = [c for c in cmds.splitlines() if "espnet2.bin.st_inference" in c]
    assert st_lines and all(c.startswith("env OMP_NUM_THREADS=1 ") for c in st_lines)
    # and with its search written out in conf/ (--st_decode_config)
    assert all(" --config conf/decode_st.yaml " in c for c in st_lines), st_lines


def test_results_table_parses(recipe):
    tmp, _ = recipe
    rows = parse_results_table(tmp / "RESULTS.md")
    systems = " ".join(str(r) for r in rows)
    for name in ("jstar", "cascade", "espnet_st"):
        assert name in systems
    assert len(rows) >= 5
    # stage 8 breaks the ASR streams' WER down by condition (TTS engine, SNR band, ...)
    text = (tmp / "RESULTS.md").read_text()
    section = text[text.index("## WER by condition"):text.index("## sacrebleu")]
    assert "| grouping | group | segments | cascade | jstar |" in section
    for grouping in ("speaker", "lang", "tts_engine", "snr_db"):
        assert f"| {grouping} |" in section, grouping
    # and compares every system with the cascade by paired bootstrap
    boot = text[text.index("## Paired bootstrap"):text.index("## sacrebleu")]
    boot_rows = [line for line in boot.splitlines() if line.startswith("| ")]
    assert boot_rows[1].startswith("| cascade (test) |") and "(baseline)" in boot_rows[1]
    assert any(r.startswith("| jstar (test) |") and "(p = " in r for r in boot_rows)


def test_st_pretrain_initialises_espnet_st_from_an_espnet_asr_and_mt(recipe):
    """--st_pretrain true (the fixture's run): the ESPnet ST job first trains an ESPnet ASR (CTC
    on the source transcripts) and an ESPnet MT (the MTs' text pairs), then starts ESPnet ST's
    encoder, source CTC and decoder from them; ESPnet loads each part strictly, so a size or
    name mismatch would fail the stage."""
    tmp, _ = recipe
    exp = tmp / "exp"
    cmds = (exp / "commands.txt").read_text().splitlines()
    asr = [c for c in cmds if "espnet2.bin.asr_train" in c and "--resume true" in c]
    mt = [c for c in cmds if "espnet2.bin.mt_train" in c and "--resume true" in c]
    st = [c for c in cmds if "espnet2.bin.st_train" in c and "--resume true" in c]
    assert len(asr) == len(mt) == len(st) == 1
    # the ASR reads the source transcripts as its "text", with the ASR stream's tokens
    assert f"{tmp}/data/train/src_text,text,text" in asr[0]
    assert "--token_list " + str(tmp / "data/token_list/char/tokens.txt") in asr[0]
    assert " --config conf/train_espnet_st_mini_asr.yaml " in asr[0]
    assert f"{tmp}/data/train/src_text,src_text,text" in mt[0]
    a, m = exp / "espnet_st_asr/valid.loss.ave.pth", exp / "espnet_st_mt/valid.acc.ave.pth"
    assert f"--init_param {a}:encoder:encoder {a}:ctc:ctc {m}:decoder:decoder" in st[0]
    log = (exp / "espnet_st.train.log").read_text()
    for part in (f"{a}:encoder:encoder", f"{a}:ctc:ctc", f"{m}:decoder:decoder"):
        assert f"Loading pretrained params from {part}" in log


def test_char_asr_tokens_stage3(recipe, tmp_path):
    """--asr_tokens char: stage 3 adds a character model for the ASR stream (tags kept whole,
    every training character covered); an unknown value is refused before any stage runs."""
    import sentencepiece as spm

    tmp, _ = recipe
    data = tmp_path / "data"
    data.mkdir()
    (data / "train").symlink_to(tmp / "data" / "train")
    run(tmp, "--stage", "3", "--stop_stage", "3", "--asr_tokens", "char", "--datadir", str(data),
        "--expdir", str(tmp_path / "exp"))
    chars = data / "token_list" / "char"
    assert (chars / ".done").exists() and (data / "token_list/bpe300/.done").exists()
    tokens = (chars / "tokens.txt").read_text(encoding="utf-8").split()
    assert tokens[:2] == ["<blank>", "<unk>"] and tokens[-1] == "<sos/eos>"
    assert "<self>" in tokens and "<other>" in tokens and len(tokens) < 80
    sp = spm.SentencePieceProcessor(model_file=str(chars / "bpe.model"))
    line = (tmp / "data/train/src_text").read_text(encoding="utf-8").splitlines()[0]
    pieces = sp.encode(line.split(maxsplit=1)[1], out_type=str)
    assert "<self>" in pieces or "<other>" in pieces
    assert all(len(p) == 1 or p in ("<self>", "<other>") for p in pieces)
    assert "<unk>" not in pieces
    p = run(tmp, "--stage", "3", "--stop_stage", "3", "--asr_tokens", "words",
            "--datadir", str(data), "--expdir", str(tmp_path / "exp2"), check=False)
    assert p.returncode != 0 and "--asr_tokens must be bpe or char" in p.stderr


def test_bridge_is_the_default_jstar(recipe):
    """run.sh --bridge true --asr_init true: "jstar" reads the ASR CTC posteriors through the
    character MT's source embeddings (no residual), its slow encoder and ST head start from
    that MT (--repeat 1, 0-1 blanks per character), its fast encoder and ASR head from the
    cascade's ASR, trained before it; the cascade keeps the BPE MT."""
    import yaml

    tmp, _ = recipe
    exp = tmp / "exp"
    mt = yaml.safe_load((exp / "mt_char/config.yaml").read_text())
    assert mt["src_blanks"] == 1 and mt["repeat"] == 1 and mt["src_token_list"][-1] == "<sos/eos>"
    assert len(mt["src_token_list"]) < 80  # characters, not the shared BPE
    # run.sh's --mt_char_args reach the character MT only
    assert mt["src_substitute"] == 0.1
    assert yaml.safe_load((exp / "mt/config.yaml").read_text())["src_substitute"] == 0.0
    # ESPnet ST's auxiliary CTC reads the ASR stream's characters, like the cascade's ASR
    st = yaml.safe_load((exp / "espnet_st/config.yaml").read_text())
    assert st["src_token_list"] == mt["src_token_list"] and st["specaug"] is None
    cfg = yaml.safe_load((exp / "jstar/config.yaml").read_text())
    assert cfg["bridge"] == "ctc_embed" and cfg["bridge_conf"] == {"residual": False}
    asr = str(exp / "cascade_asr/valid.loss.ave.pth")
    assert cfg["init_param"] == [f"{asr}:fast_encoder:fast_encoder", f"{asr}:asr_head:asr_head"]
    assert not cfg.get("freeze_param")  # joint fine-tuning
    # the fine-tuning settings override the config's and keep the rest of it
    assert cfg["optim_conf"] == {"lr": 0.0005, "weight_decay": 1e-06}
    assert cfg["scheduler_conf"] == {"warmup_steps": 50}
    log = (exp / "jstar.train.log").read_text()
    assert "init_from_mt(" + str(exp / "mt_char") in log and "'bridge': 3" in log
    assert "Loading pretrained params from " + asr in log
    # the ASR was trained before JSTAR started (stage 5)
    stage_log = recipe[1].stderr
    trained = "training espnet2_jstar.bin.jstar_train -> " + str(exp / "cascade_asr")
    assert stage_log.count(trained) == 1
    assert stage_log.index(trained) < stage_log.index("stage 5: JSTAR training (jstar)")
    # JSTAR waited for the ASR to finish, not for the ESPnet ST baseline training beside it
    asr_done = (exp / "cascade_asr/.done").stat().st_mtime
    assert asr_done <= (exp / "jstar/stats/.done").stat().st_mtime
    # stage 6 waits for the baselines stage 5 started and does not train them a second time
    assert stage_log.count("training espnet2.bin.st_train -> " + str(exp / "espnet_st")) == 1
    cmds = (exp / "commands.txt").read_text().splitlines()
    cascade = [c for c in cmds if "cascade_inference" in c]
    assert cascade and all("--mt_model_file " + str(exp / "mt") + " " in c for c in cascade)
    # commands.txt quotes what a shell would split: its lines run as recorded
    (train,) = [c for c in cmds if c.endswith("--resume true --output_dir " + str(exp / "jstar"))]
    args = shlex.split(train)
    assert args[args.index("--bridge_conf") + 1] == "{residual: false}"


def test_no_bridge_ablation(recipe, tmp_path):
    """--systems jstar_no_bridge: stage 4 trains only the BPE MT (alone, with every core), stage
    5 a JSTAR without the bridge initialised from it; stages 7-8 decode and score it. The
    bridge's option checks refuse contradictory settings before any stage runs."""
    import yaml

    tmp, _ = recipe
    exp = tmp_path / "exp"
    p = run(tmp, "--stage", "4", "--stop_stage", "8", "--systems", "jstar_no_bridge",
            "--asr_init", "false", "--train_jobs", "2", "--baselines", "", "--test_sets", "test",
            "--slow_chunk_sweep", "", "--expdir", str(exp), "--results", str(tmp_path / "R.md"),
            "--beam_size", "2", check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    # a --beam_size other than the template's default (1) reaches the searches
    decodes = decode_commands(exp)
    assert len(decodes) == 2 and all("--beam_size 2 " in c for c in decodes), decodes
    assert not (exp / "mt_char").exists()
    mt_lines = [c for c in (exp / "commands.txt").read_text().splitlines() if "--resume true" in c
                and c.endswith("--output_dir " + str(exp / "mt"))]
    assert len(mt_lines) == 1 and "OMP_NUM_THREADS=" not in mt_lines[0]
    cfg = yaml.safe_load((exp / "jstar_no_bridge/config.yaml").read_text())
    assert cfg["bridge"] is None
    log = (exp / "jstar_no_bridge.train.log").read_text()
    assert "init_from_mt(" + str(exp / "mt") + ")" in log
    rows = parse_results_table(tmp_path / "R.md")
    assert "jstar_no_bridge (test)" in " ".join(str(r) for r in rows)
    for args, message in (
            (["--ablations", "bridge"], "--ablations bridge needs --bridge false"),
            (["--bridge", "false", "--ablations", "no_bridge"],
             "--ablations no_bridge needs --bridge true"),
            (["--asr_tokens", "bpe"], "the CTC bridge (jstar) needs --asr_tokens char"),
            (["--bridge", "yes"], "--bridge must be true or false"),
            (["--asr_init", "no"], "--asr_init must be true or false"),
            (["--asr_freeze", "true", "--asr_init", "false"],
             "--asr_freeze true needs --asr_init true"),
            (["--asr_freeze", "yes"], "--asr_freeze must be true or false")):
        q = run(tmp, "--stage", "4", "--stop_stage", "4", *args, "--expdir",
                str(tmp_path / "exp2"), check=False)
        assert q.returncode != 0 and message in q.stderr, (args, q.stderr[-500:])
        assert not (tmp_path / "exp2" / "mt").exists()


def test_asr_freeze_keeps_the_cascade_asr(recipe, tmp_path):
    """--asr_freeze true: JSTAR fine-tunes its ST path only; its fast encoder and ASR head,
    batch-norm statistics included, stay exactly the cascade's ASR it was loaded from."""
    import yaml

    tmp, _ = recipe
    exp = tmp_path / "exp"
    for d in ("mt", "mt_char", "cascade_asr"):
        shutil.copytree(tmp / "exp" / d, exp / d)
    p = run(tmp, "--stage", "5", "--stop_stage", "5", "--asr_freeze", "true", "--expdir",
            str(exp), check=False)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "training espnet2_jstar.bin.jstar_train -> " + str(exp / "cascade_asr") not in p.stderr
    cfg = yaml.safe_load((exp / "jstar/config.yaml").read_text())
    assert cfg["freeze_param"] == ["fast_encoder", "asr_head"]
    before = torch.load(exp / "cascade_asr/valid.loss.ave.pth", map_location="cpu")
    after = torch.load(exp / "jstar/latest.pth", map_location="cpu")
    asr_keys = [k for k in before if k.startswith(("fast_encoder.", "asr_head."))]
    assert any("running_mean" in k for k in asr_keys)
    assert all(torch.equal(before[k], after[k]) for k in asr_keys)


def test_st_name_adds_a_second_espnet_st_row(recipe, tmp_path):
    """--st_name espnet_st_ctc: a second ESPnet ST (here the CTC/attention config with its
    CTC-weighted search) trains in exp/espnet_st_ctc, decodes, and gets its own row in the same
    table as the first ESPnet ST, which stays as it was; a bad name is refused up front."""
    tmp, _ = recipe
    exp = tmp_path / "exp"
    exp.mkdir()
    for d in (tmp / "exp").iterdir():   # the fixture's trained and decoded systems
        if d.is_dir():
            (exp / d.name).symlink_to(d)
    first = tmp / "exp/espnet_st/decode_test/tokens.jsonl"
    before = first.read_bytes()
    results = tmp_path / "RESULTS.md"
    p = run(tmp, "--stage", "6", "--expdir", str(exp), "--results", str(results),
            "--baselines", "espnet_st", "--st_name", "espnet_st_ctc", "--max_epoch", "1",
            *DECODE_ARGS,
            "--st_config", "conf/train_espnet_st_ctc_mini.yaml",
            "--st_decode_config", "conf/decode_st_ctc.yaml", check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    assert f"{exp}/jstar/decode_test is complete (.done): skipped" in p.stderr
    assert (exp / "espnet_st_ctc/.done").exists() and not (exp / "espnet_st_ctc").is_symlink()
    assert (exp / "espnet_st_ctc/decode_test/score.json").exists()
    cmds = (exp / "commands.txt").read_text().splitlines()
    train = [c for c in cmds if "espnet2.bin.st_train" in c and "--resume true" in c]
    assert len(train) == 1 and "--output_dir " + str(exp / "espnet_st_ctc") in train[0]
    assert " --config conf/train_espnet_st_ctc_mini.yaml " in train[0]
    decode = [c for c in cmds if "espnet2.bin.st_inference" in c]
    assert len(decode) == 1 and " --config conf/decode_st_ctc.yaml " in decode[0]
    assert f"--st_model_file {exp}/espnet_st_ctc/" in decode[0]
    systems = [r["System"] for r in parse_results_table(results)]
    assert "espnet_st_ctc (test)" in systems and "espnet_st (test)" in systems, systems
    assert first.read_bytes() == before
    bad = run(tmp, "--stage", "6", "--expdir", str(tmp_path / "exp2"), "--st_name",
              "espnet_st_asr", check=False)
    assert bad.returncode != 0 and "--st_name must be espnet_st or" in bad.stderr
    assert not (tmp_path / "exp2").exists()


def test_decodings_start_while_a_baseline_still_trains(recipe, tmp_path):
    """Stage 7 does not wait for every training of stages 5-6: with a slot free, JSTAR's
    decoding starts while ESPnet ST still trains, and ESPnet ST's decoding waits for its own
    training. A wrapper run as the template's python holds ESPnet ST's training until a JSTAR
    decoding has started (for at most 120 s), so a stage 7 that waited for the whole of stage 6
    shows up as a timeout, not as a slower run."""
    tmp, _ = recipe
    exp = tmp_path / "exp"
    exp.mkdir()
    for d in ("mt", "mt_char", "cascade_asr"):   # trained and decoded: skipped
        (exp / d).symlink_to(tmp / "exp" / d)
    shutil.copytree(tmp / "exp" / "jstar", exp / "jstar",   # trained, not decoded
                    ignore=shutil.ignore_patterns("decode_*"))
    flag, events = tmp_path / "jstar_decoding_started", tmp_path / "events"
    flag_q, events_q, done_q = (shlex.quote(str(x))
                                for x in (flag, events, exp / "espnet_st" / ".done"))
    wrapper = tmp_path / "python"
    wrapper.write_text(f"""#!/bin/bash
case " $* " in   # the module run, not one named in a stage_stamp command line
  " -m espnet2_jstar.bin.jstar_inference "*) touch {flag_q} ;;
  " -m espnet2.bin.st_train "*"--resume true"*)
      for i in $(seq 240); do [ -f {flag_q} ] && break; sleep 0.5; done
      if [ -f {flag_q} ]; then echo released >> {events_q}; else echo timeout >> {events_q}; fi ;;
  " -m espnet2.bin.st_inference "*)
      if [ -f {done_q} ]; then echo st_decode_after_training >> {events_q}
      else echo st_decode_before_training >> {events_q}; fi ;;
esac
exec {shlex.quote(sys.executable)} "$@"
""")
    wrapper.chmod(0o755)
    env = {**os.environ, "PYTHON": str(wrapper)}
    p = run(tmp, "--stage", "6", "--stop_stage", "7", "--expdir", str(exp), "--baselines",
            "espnet_st", "--max_epoch", "1", "--train_jobs", "2", "--nj", "2",
            "--slow_chunk_sweep", "", check=False, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    assert events.read_text().split() == ["released", "st_decode_after_training"]
    assert (exp / "jstar/decode_test/.done").exists()
    assert (exp / "espnet_st/decode_test/.done").exists()
