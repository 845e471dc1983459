"""Tests for espnet2_jstar.bin.check_st_decode_config (the template's stage-7 pre-check)."""

from pathlib import Path

import pytest

from espnet2_jstar.bin.check_st_decode_config import (
    ConfigError,
    load_mapping,
    main,
    st_ctc_mismatch,
)

CONF = Path(__file__).resolve().parents[2] / "egs/mini_bilingual/jstar1/conf"


@pytest.mark.parametrize(
    "decode_conf, train_conf, fits",
    [
        ({"ctc_weight": 0.5}, {"model_conf": {"st_mtlalpha": 0.3}}, True),
        ({"ctc_weight": 0.5}, {"model_conf": {"st_mtlalpha": 0.0}}, False),
        ({"ctc_weight": 0.5}, {"model_conf": {}}, False),
        ({"ctc_weight": 0.5}, {"model_conf": None}, False),
        ({"ctc_weight": 0.5}, {}, False),
        ({"ctc_weight": 0.0}, {}, True),
        ({"beam_size": 20}, {"model_conf": {"st_mtlalpha": 0.0}}, True),
        ({"ctc_weight": None}, {}, True),
    ],
)
def test_st_ctc_mismatch(decode_conf, train_conf, fits):
    reason = st_ctc_mismatch(decode_conf, train_conf, "D.yaml", "M.yaml")
    if fits:
        assert reason is None
    else:
        assert reason.startswith("D.yaml weighs an ST CTC (ctc_weight 0.5 > 0), but M.yaml")
        assert "has none (st_mtlalpha 0)" in reason


@pytest.mark.parametrize(
    "decode, train, rc",
    [
        ("decode_st.yaml", "train_espnet_st_mini.yaml", 0),
        ("decode_st.yaml", "train_espnet_st_ctc_mini.yaml", 0),
        ("decode_st_ctc.yaml", "train_espnet_st_ctc_mini.yaml", 0),
        ("decode_st_ctc.yaml", "train_espnet_st_mini.yaml", 1),
    ],
)
def test_shipped_configs(decode, train, rc, capsys):
    """The recipe's own decoding and training configs pair up as their comments say."""
    got = main(["--decode_config", str(CONF / decode), "--train_config", str(CONF / train)])
    err = capsys.readouterr().err
    assert got == rc
    if rc:
        assert f"{CONF / decode} weighs an ST CTC (ctc_weight 0.5 > 0)" in err
        assert f"but {CONF / train} has none" in err
        assert "conf/decode_st.yaml" in err
    else:
        assert err == ""


def test_empty_file_is_an_empty_mapping(tmp_path):
    f = tmp_path / "empty.yaml"
    f.write_text("")
    assert load_mapping(f) == {}


@pytest.mark.parametrize(
    "text, problem",
    [
        (None, "cannot be read"),
        ("- a\n- b\n", "a YAML mapping was expected, got list"),
        ("a: [1, 2\n", "is not valid YAML"),
    ],
)
def test_bad_config_names_the_file(tmp_path, capsys, text, problem):
    bad = tmp_path / "bad.yaml"
    if text is not None:
        bad.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_mapping(bad)
    good = CONF / "decode_st.yaml"
    assert main(["--decode_config", str(good), "--train_config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: " in err and problem in err
