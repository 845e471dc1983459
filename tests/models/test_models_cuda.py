"""JSTARModel and the beamformer front-end on CUDA: same losses as on CPU, training runs.

Skipped without a GPU (CI has none); on a GPU machine:
``python -m pytest tests/models/test_models_cuda.py -v``.
"""

import pytest
import torch

from espnet2_jstar.tasks.jstar import JSTARTask
from jstar_testutil import load_batch, tiny_args
from toydata import make_toy_dataset

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy"), n=3)


def _to(batch, dev):
    return {k: v.to(dev) for k, v in batch.items()}


@pytest.mark.parametrize("extra", [
    ["--asr_loss", "pruned", "--st_loss", "pruned",
     "--asr_loss_conf", "{prune_range: 4, warmup_steps: 0}",
     "--st_loss_conf", "{prune_range: 4, warmup_steps: 0}"],
    ["--asr_loss", "torchaudio", "--st_loss", "torchaudio", "--asr_ctc_weight", "0.3"],
], ids=["pruned", "torchaudio+ctc"])
def test_jstar_loss_on_cuda_equals_cpu_and_trains(toy, extra):
    torch.manual_seed(0)
    args = tiny_args(toy, extra)
    model = JSTARTask.build_model(args)
    _, batch, _, _ = load_batch(toy, args)
    model.eval()  # no dropout, no dynamic chunks: both devices compute the same function
    with torch.no_grad():
        ref, ref_stats, _ = model(**batch)
        model.cuda()
        got, got_stats, _ = model(**_to(batch, "cuda"))
    torch.testing.assert_close(got.cpu(), ref, atol=2e-3, rtol=1e-4)
    torch.testing.assert_close(got_stats["loss_st"].cpu(), ref_stats["loss_st"],
                               atol=2e-3, rtol=1e-4)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(15):
        loss, _, _ = model(**_to(batch, "cuda"))
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = float(loss.detach()) if first is None else first
    assert torch.isfinite(loss) and float(loss.detach()) < first
    assert int(model.num_updates) == 15


def test_beamformer_frontend_model_on_cuda(tmp_path):
    """The beam bank's buffers move with the model; CPU and GPU give the same loss."""
    import json

    toy7 = make_toy_dataset(tmp_path / "toy7", n=2, channels=7)
    conf = dict(n_beams=5, n_mels=24, cnn_channels=4, cnn_bottleneck=2, output_size=40)
    torch.manual_seed(0)
    args = tiny_args(toy7, ["--frontend", "beamformer", "--frontend_conf", json.dumps(conf)],
                     mvn=False)
    model = JSTARTask.build_model(args).eval()
    _, batch, _, _ = load_batch(toy7, args)
    assert batch["speech"].shape[-1] == 7
    with torch.no_grad():
        ref, _, _ = model(**batch)
    model.cuda().train()
    assert all(b.device.type == "cuda" for b in model.frontend.buffers())
    model.eval()
    with torch.no_grad():
        got, _, _ = model(**_to(batch, "cuda"))
    torch.testing.assert_close(got.cpu(), ref, atol=2e-3, rtol=1e-4)
    model.train()
    loss, _, _ = model(**_to(batch, "cuda"))
    loss.backward()
    assert torch.isfinite(loss)
