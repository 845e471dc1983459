"""CTC greedy decoding of the ASR stream (decoding/batch.py, jstar_inference --asr_ctc_greedy)."""

import numpy as np
import pytest
import torch

from espnet2.asr.ctc import CTC
from espnet2_jstar.decoding.batch import JSTARSpeech2Text, ctc_greedy
from espnet2_jstar.decoding.text import TokenDecoder
from jstar_testutil import build_tiny
from toydata import make_toy_dataset


def test_runs_merge_and_blanks_drop():
    ctc = CTC(6, 6)
    with torch.no_grad():  # identity projection: the frame's argmax is its largest input
        ctc.ctc_lo.weight.copy_(torch.eye(6))
        ctc.ctc_lo.bias.zero_()
    best = [0, 3, 3, 0, 3, 5, 5, 0, 1]
    enc = torch.nn.functional.one_hot(torch.tensor(best), 6).float()
    assert ctc_greedy(ctc, enc) == ([3, 3, 5, 1], [1, 4, 5, 8])
    assert ctc_greedy(ctc, enc[:1]) == ([], [])


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy"), n=1)


def test_the_asr_stream_comes_from_the_ctc_head(toy):
    model, args = build_tiny(toy, ["--asr_ctc_weight", "0.5"])
    model.eval()
    at, st = (TokenDecoder.from_train_args(args, h) for h in ("asr", "st"))
    wav = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    with torch.no_grad():  # make one non-blank token win every frame
        model.asr_head.ctc.ctc_lo.bias[5] = 1e3
    out = JSTARSpeech2Text(model, at, st, asr_ctc_greedy=True)(wav)
    assert out["asr"].token_int == [5] and out["asr"].frames == [0]
    plain = JSTARSpeech2Text(model, at, st)(wav)
    assert plain["st"].token_int == out["st"].token_int   # the ST stream is untouched


def test_a_model_without_a_ctc_head_is_refused(toy):
    model, args = build_tiny(toy)
    at, st = (TokenDecoder.from_train_args(args, h) for h in ("asr", "st"))
    with pytest.raises(ValueError, match="needs a CTC head"):
        JSTARSpeech2Text(model, at, st, asr_ctc_greedy=True)


def test_an_asr_search_option_beside_ctc_greedy_is_refused(toy):
    model, args = build_tiny(toy, ["--asr_ctc_weight", "0.5"])
    at, st = (TokenDecoder.from_train_args(args, h) for h in ("asr", "st"))
    with pytest.raises(ValueError, match="would be ignored"):
        JSTARSpeech2Text(model, at, st, asr_ctc_greedy=True, asr_blank_penalty=2.0)
    JSTARSpeech2Text(model, at, st, asr_ctc_greedy=True, st_blank_penalty=2.0)  # ST: allowed


@pytest.mark.parametrize("extra", [["--asr_lm_file", "lm.pth"], ["--asr_blank_penalty", "1"]])
def test_cli_refuses_an_asr_search_option_beside_ctc_greedy(tmp_path, capsys, extra):
    from espnet2_jstar.bin import jstar_inference

    with pytest.raises(SystemExit):
        jstar_inference.main(["--output_dir", str(tmp_path / "o"), "--asr_ctc_greedy", *extra,
                              "--data_path_and_name_and_type", "x,speech,sound"])
    assert "would be ignored" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_refuses_ctc_greedy_in_streaming_mode(tmp_path, capsys):
    from espnet2_jstar.bin import jstar_inference

    with pytest.raises(SystemExit):
        jstar_inference.main(["--output_dir", str(tmp_path / "o"), "--mode", "streaming",
                              "--asr_ctc_greedy",
                              "--data_path_and_name_and_type", "x,speech,sound"])
    assert "--asr_ctc_greedy decodes whole utterances" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
