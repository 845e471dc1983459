"""Decoding stamps (espnet2_jstar.bin.stage_stamp): what makes a recorded decoding stale."""

import json
import os
import subprocess
import sys

import pytest

from espnet2_jstar.bin import stage_stamp
from espnet2_jstar.models.model_files import find_model_file


@pytest.fixture
def exp(tmp_path):
    """A model dir, a data dir and a decode dir, with the command that decodes into it."""
    model = tmp_path / "exp" / "jstar"
    model.mkdir(parents=True)
    (model / "config.yaml").write_text("chunk_size: 16\n")
    (model / "valid.loss.ave_3best.pth").write_bytes(b"weights 1")
    (model / "valid.loss.ave.pth").symlink_to("valid.loss.ave_3best.pth")
    data = tmp_path / "data" / "test"
    data.mkdir(parents=True)
    (data / "wav.scp").write_text("utt1 a.wav\n")
    out = model / "decode_test"
    out.mkdir()
    cmd = ["/venv/bin/python", "-m", "espnet2_jstar.bin.jstar_inference", "--beam_size", "4",
           "--slow_chunk_size", "8",
           "--data_path_and_name_and_type", f"{data}/wav.scp,speech,sound",
           "--jstar_train_config", str(model / "config.yaml"), "--jstar_model_file", str(model),
           "--output_dir", str(out)]
    return model, out, cmd


def test_find_model_file_prefers_the_average_and_needs_no_torch(exp):
    model, _, _ = exp
    assert find_model_file(model) == model / "valid.loss.ave.pth"
    code = ("import sys; import espnet2_jstar.bin.stage_stamp; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_no_done_then_write_then_same_command_is_fresh(exp):
    _, out, cmd = exp
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and "no .done" in why
    stage_stamp.write(out, cmd)
    assert not (out / ".done.tmp").exists()
    assert json.loads((out / ".done").read_text())["command"] == cmd
    assert stage_stamp.check(out, cmd) == (True, "")


def test_an_option_change_is_named_with_its_old_and_new_value(exp):
    _, out, cmd = exp
    stage_stamp.write(out, cmd)
    other = [("12" if c == "8" else c) for c in cmd] + ["--st_blank_penalty", "2"]
    ok, why = stage_stamp.check(out, other)
    assert not ok
    assert "--slow_chunk_size: 8 -> 12" in why and "--st_blank_penalty 2 added" in why, why
    ok, why = stage_stamp.check(out, [c for c in cmd if c not in ("--beam_size", "4")])
    assert not ok and "--beam_size 4 removed" in why, why


def test_changed_inputs_are_stale_but_a_new_interpreter_or_output_path_is_not(exp, tmp_path):
    model, out, cmd = exp
    stage_stamp.write(out, cmd)
    # another venv, a wrapper, or the output written elsewhere: the same decoding
    moved = ["/other/python"] + cmd[1:-1] + [str(tmp_path / "elsewhere")]
    assert stage_stamp.check(out, moved) == (True, "")
    (model / "config.yaml").write_text("chunk_size: 8\n")
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and f"--jstar_train_config {model}/config.yaml: its contents changed" in why
    stage_stamp.write(out, cmd)
    (model / "valid.loss.ave_3best.pth").write_bytes(b"weights 2")   # retrained
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and f"--jstar_model_file {model}: its contents changed" in why, why
    stage_stamp.write(out, cmd)
    (tmp_path / "data/test/wav.scp").write_text("utt2 b.wav\n")
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and "wav.scp,speech,sound: its contents changed" in why, why


def test_a_copied_experiment_keeps_its_decodings(exp, tmp_path):
    """Paths are not compared, contents are: the same files under another root match."""
    model, out, cmd = exp
    stage_stamp.write(out, cmd)
    copy = tmp_path / "copy"
    os.makedirs(copy)
    for sub in ("exp", "data"):
        subprocess.run(["cp", "-a", str(tmp_path / sub), str(copy / sub)], check=True)
    moved = [c.replace(str(tmp_path), str(copy)) for c in cmd]
    assert stage_stamp.check(copy / "exp/jstar/decode_test", moved) == (True, "")


def test_legacy_or_broken_done_is_not_fresh(exp):
    _, out, cmd = exp
    (out / ".done").write_text("")
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and "records no command" in why
    (out / ".done").write_text("{not json")
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and "unreadable stamp" in why and str(out) in why


def test_verify_names_the_changed_input_and_passes_moved_or_legacy_ones(exp):
    model, out, cmd = exp
    stage_stamp.write(out, cmd)
    assert stage_stamp.verify(out) == (True, "")
    (model / "valid.loss.ave_3best.pth").write_bytes(b"weights 2")
    ok, why = stage_stamp.verify(out)
    assert not ok and why.endswith(f"changed since it was decoded: {model}"), why
    (out / ".done").write_text("")   # no stamp: nothing to compare
    assert stage_stamp.verify(out) == (True, "")


def test_cli_exit_codes_and_env_prefix(exp, capsys):
    _, out, cmd = exp
    env_cmd = ["env", "OMP_NUM_THREADS=1"] + cmd
    assert stage_stamp.main(["check", str(out), "--"] + env_cmd) == 1
    assert "no .done" in capsys.readouterr().out
    assert stage_stamp.main(["write", str(out), "--"] + env_cmd) == 0
    assert stage_stamp.main(["check", str(out), "--"] + env_cmd) == 0
    # the thread count is part of what ran (the RTF depends on it)
    two = ["env", "OMP_NUM_THREADS=2"] + cmd
    assert stage_stamp.main(["check", str(out), "--"] + two) == 1
    assert "another program or environment" in capsys.readouterr().out
    assert stage_stamp.main(["verify", str(out)]) == 0
    with pytest.raises(SystemExit):
        stage_stamp.main(["write", str(out / "missing"), "--"] + cmd)


def test_files_inside_espnet_arguments_are_hashed(tmp_path, monkeypatch):
    """--init_param FILE:src:dst and --normalize_conf stats_file=FILE name files too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "asr.pth").write_bytes(b"a")
    (tmp_path / "feats_stats.npz").write_bytes(b"s")
    cmd = ["python", "-m", "m", "--init_param", "./asr.pth:encoder:encoder",
           "--normalize_conf", "stats_file=./feats_stats.npz", "--bins", "snr_db=7,14"]
    sig = stage_stamp.signature(cmd)
    assert sig[3].startswith("md5:") and sig[3].endswith(":encoder:encoder")
    assert sig[5].startswith("stats_file=md5:") and sig[7] == "snr_db=7,14"
    (tmp_path / "feats_stats.npz").write_bytes(b"t")
    assert stage_stamp.signature(cmd)[5] != sig[5]
    out = tmp_path / "exp"
    out.mkdir()
    stage_stamp.write(out, cmd)
    (tmp_path / "asr.pth").write_bytes(b"b")
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and "--init_param ./asr.pth:encoder:encoder: its contents changed" in why
    assert stage_stamp.verify(out) == (False, "inputs changed since it was decoded: ./asr.pth")


def test_an_option_with_several_values_is_compared_whole(tmp_path, monkeypatch):
    """ESPnet's --init_param takes several FILE:src:dst values."""
    monkeypatch.chdir(tmp_path)
    for name in ("a.pth", "b.pth"):
        (tmp_path / name).write_bytes(name.encode())
    cmd = ["python", "-m", "m", "--init_param", "./a.pth:enc:enc", "./b.pth:dec:dec",
           "--max_epoch", "3"]
    out = tmp_path / "exp"
    out.mkdir()
    stage_stamp.write(out, cmd)
    (tmp_path / "b.pth").write_bytes(b"retrained")
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and why == ("changed since: --init_param ./a.pth:enc:enc ./b.pth:dec:dec: "
                              "its contents changed"), why
    ok, why = stage_stamp.check(out, cmd[:5] + cmd[6:])
    assert not ok and "--init_param: ./a.pth:enc:enc ./b.pth:dec:dec -> ./a.pth:enc:enc" in why


def test_an_unreadable_stamp_is_redone_and_a_failure_exits_2(exp, capsys, monkeypatch):
    """Exit 1 means "changed, redo"; a failure to compare exits 2, which the recipe stops on."""
    _, out, cmd = exp
    (out / ".done").write_text('{"command": 1, "signature": 2}')
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and "unreadable stamp" in why
    assert stage_stamp.verify(out) == (True, "")
    stage_stamp.write(out, cmd)

    def fail(_):
        raise OSError("disk gone")

    monkeypatch.setattr(stage_stamp, "_md5", fail)
    assert stage_stamp.main(["check", str(out), "--"] + cmd) == 2
    assert "OSError: disk gone" in capsys.readouterr().err


def test_a_data_stage_script_its_input_stage_and_jobs(tmp_path, monkeypatch):
    """A local/ script is hashed, --out_dir and --nj are left out, and an input folder made by
    another stage is known by its .done: made again upstream, this stage has changed."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "local").mkdir()
    script = tmp_path / "local" / "simulate_array.py"
    script.write_text("print('v1')\n")
    dry = tmp_path / "data" / "dry"
    dry.mkdir(parents=True)
    (dry / ".done").write_text('{"command": ["a"], "signature": ["a"]}\n')
    cmd = ["/venv/bin/python", "local/simulate_array.py", "--in_dir", "data/dry", "--out_dir",
           "data", "--nj", "2", "--seed", "0"]
    out = tmp_path / "data" / "train"
    out.mkdir()
    stage_stamp.write(out, cmd)
    other_jobs = ["/other/python"] + cmd[1:7] + ["14"] + cmd[8:]
    assert stage_stamp.check(out, other_jobs) == (True, "")
    ok, why = stage_stamp.check(out, cmd[:-1] + ["1"])
    assert not ok and "--seed: 0 -> 1" in why
    (dry / ".done").write_text('{"command": ["b"], "signature": ["b"]}\n')   # stage 1 redone
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and "--in_dir data/dry: its contents changed" in why, why
    assert stage_stamp.verify(out) == (False, "inputs changed since it was decoded: data/dry")
    stage_stamp.write(out, cmd)
    script.write_text("print('v2')\n")
    ok, why = stage_stamp.check(out, cmd)
    assert not ok and "another program or environment" in why


def test_a_flag_without_a_value_is_named_alone(exp):
    _, out, cmd = exp
    stage_stamp.write(out, cmd)
    ok, why = stage_stamp.check(out, cmd + ["--single_channel"])
    assert why == "changed since: --single_channel added", why
