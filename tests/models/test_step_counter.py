"""The loss warm-up step counter (``num_updates``) survives a state-dict round trip, so an
ESPnet resume (checkpoint.pth) continues the pruned loss's warm-up instead of restarting it."""

import pytest
import torch
import yaml

from espnet2_jstar.models.mt_init import init_from_mt
from espnet2_jstar.tasks.jstar import JSTARTask
from espnet2_jstar.tasks.loading import build_model_strict
from espnet2_jstar.tasks.mt import MTTask
from jstar_testutil import TINY_ENC, load_batch, tiny_args
from toydata import PAIRS, make_toy_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy_steps"), n=2)


def mt_args(root):
    """A tiny MT whose slow/ST sections equal jstar_testutil.tiny_args' (same toy BPE)."""
    return MTTask.get_parser().parse_args([
        "--token_list", str(root / "bpe/tokens.txt"), "--bpemodel", str(root / "bpe/bpe.model"),
        "--embed_size", "48", "--repeat", "2", "--embed_dropout", "0",
        "--slow_encoder_conf",
        TINY_ENC.format(n=1, inp="{block_type: linear, subsampling_factor: 1}"),
        "--st_decoder_conf", "{embed_size: 32, hidden_size: 48}",
        "--st_joint_network_conf", "{joint_space_size: 48}", "--output_dir", "unused",
    ])


def mt_batch(args, pairs):
    pre = MTTask.build_preprocess_fn(args, train=True)
    items = [(f"u{i}", pre(f"u{i}", {"src_text": s, "text": t})) for i, (s, t) in enumerate(pairs)]
    return MTTask.build_collate_fn(args, True)(items)[1]


def _steps(model, batch, n):
    model.train()
    for _ in range(n):
        model(**batch)


def test_jstar_counter_round_trip_and_loss_step(toy, tmp_path):
    args = tiny_args(toy, ["--asr_loss", "pruned", "--st_loss", "pruned"])
    model = JSTARTask.build_model(args)
    _, batch, _, _ = load_batch(toy, args)
    _steps(model, batch, 3)
    sd = model.state_dict()
    assert int(sd["num_updates"]) == 3
    torch.save(sd, tmp_path / "m.pth")
    fresh = JSTARTask.build_model(args)
    fresh.load_state_dict(torch.load(tmp_path / "m.pth"), strict=True)  # ESPnet resume
    assert int(fresh.num_updates) == 3
    _steps(fresh, batch, 1)
    assert int(fresh.num_updates) == 4
    assert fresh.asr_head.loss.step == fresh.st_head.loss.step == 4


def test_mt_counter_round_trip(toy):
    args = mt_args(toy)
    model = MTTask.build_model(args)
    _steps(model, mt_batch(args, PAIRS[:2]), 2)
    fresh = MTTask.build_model(args)
    fresh.load_state_dict(model.state_dict(), strict=True)
    assert int(fresh.num_updates) == 2


def test_old_model_file_without_counter_still_loads_strictly(toy, tmp_path):
    """Model files from before the counter was persistent: no error, counter kept."""
    args = tiny_args(toy)
    model = JSTARTask.build_model(args)
    sd = model.state_dict()
    del sd["num_updates"]
    torch.save(sd, tmp_path / "old.pth")
    with open(tmp_path / "config.yaml", "w") as f:
        yaml.safe_dump(vars(args), f)
    loaded, _ = build_model_strict(JSTARTask, tmp_path / "config.yaml", tmp_path / "old.pth")
    assert int(loaded.num_updates) == 0
    fresh = JSTARTask.build_model(args)
    fresh.load_state_dict(sd, strict=True)


def test_mt_init_does_not_copy_the_mt_counter(toy):
    """JSTAR starts its own warm-up: the MT counter is a root buffer, not slow_encoder/st_head."""
    mt = MTTask.build_model(mt_args(toy))
    mt.num_updates.fill_(123)
    jstar = JSTARTask.build_model(tiny_args(toy))
    report = init_from_mt(jstar, mt)
    assert "num_updates" in report["mt_only"] and int(jstar.num_updates) == 0
