"""How far is a trained model's own transducer loss from the full RNN-T loss?

Usage:
    python -m espnet2_jstar.bin.loss_report --data_dir data/dev --num_utts 16 \
        --model exp/jstar/valid.loss.ave.pth --model exp/jstar_torchaudio_loss/valid.loss.ave.pth

For each model (its ``config.yaml`` beside the file) and each head (asr, st) on the first
``--num_utts`` utterances of a data dir, in eval mode, it prints:

* ``full``: the exact RNN-T loss (torchaudio ``rnnt_loss``, full joiner), mean per utterance;
* ``own``: the head's configured loss (for ``pruned``: 0.5 simple + pruned, and both parts);
* ``cos``: cosine between the gradients of ``full`` and ``own`` w.r.t. the encoder output.

The pruned loss only bounds the full loss from above, so its training curves cannot be read
against a torchaudio-loss run: this tool puts both models on the same (full) scale. Written
here because neither ESPnet nor torchaudio reports a pruned model's full loss.
"""

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Dict, List, Optional

import soundfile
import torch


def load_batch(data_dir: Path, args, num_utts: Optional[int] = None, train: bool = False):
    """Preprocess (JSTARTask's preprocessor) and collate the first ``num_utts`` utterances
    (all when None) of a data dir into one batch.

    Returns:
        keys, batch (``speech``, ``src_text``, ``text`` + lengths), {uid: waveform},
        [(uid, preprocessed item)]
    """
    from espnet2.train.collate_fn import CommonCollateFn

    from espnet2_jstar.tasks.jstar import JSTARTask

    pre = JSTARTask.build_preprocess_fn(args, train=train)
    texts: Dict[str, Dict[str, str]] = {}
    for name in ("src_text", "text"):
        for line in open(data_dir / name, encoding="utf-8"):
            uid, _, t = line.rstrip("\n").partition(" ")
            texts.setdefault(uid, {})[name] = t
    items, wavs = [], {}
    for line in open(data_dir / "wav.scp", encoding="utf-8"):
        if len(items) == num_utts:
            break
        uid, path = line.split(maxsplit=1)
        wavs[uid], _ = soundfile.read(path.strip(), dtype="float32")
        if uid not in texts or len(texts[uid]) != 2:
            raise ValueError(f"{data_dir}: utterance {uid} lacks src_text or text")
        items.append((uid, pre(uid, {"speech": wavs[uid], **texts[uid]})))
    keys, batch = CommonCollateFn(float_pad_value=0.0, int_pad_value=-1)(items)
    return keys, batch, wavs, items


def head_report(head, enc: torch.Tensor, enc_lens: torch.Tensor, labels: torch.Tensor) -> Dict:
    """Full vs own loss of one TransducerHead on fixed encoder output (B, T, D)."""
    from espnet2.asr_transducer.utils import get_transducer_task_io

    from espnet2_jstar.losses import build_transducer_loss

    dec_in, target, t_len, u_len = get_transducer_task_io(
        labels, enc_lens, ignore_id=head.ignore_id, blank_id=head.blank_id)
    head.decoder.set_device(enc.device)
    V = head.joint_network.lin_out.out_features
    full = build_transducer_loss("torchaudio", {}, V, enc.shape[-1], 1, blank_id=head.blank_id)
    out: Dict = {"mean_T": float(t_len.float().mean()), "mean_U": float(u_len.float().mean())}
    grads = {}
    for name, loss_mod in (("full", full), ("own", head.loss)):
        loss_mod.eval()
        x = enc.detach().clone().requires_grad_()
        loss, info = loss_mod(x, head.decoder(dec_in), head.joint_network, target, t_len, u_len)
        (grads[name],) = torch.autograd.grad(loss, x)
        out[name] = round(float(loss), 3)
        if name == "own":
            out["own_type"] = type(loss_mod).__name__
            out.update({f"own_{k}": round(v, 3) for k, v in info.items()
                        if k in ("simple", "pruned")})
    out["cos"] = round(float(torch.nn.functional.cosine_similarity(
        grads["full"].flatten(), grads["own"].flatten(), dim=0)), 4)
    return out


def report(model_file: str, data_dir: Path, num_utts: int) -> Dict:
    from espnet2_jstar.tasks.jstar import JSTARTask

    cfg = Path(model_file).parent / "config.yaml"
    if not cfg.exists():
        raise FileNotFoundError(f"{model_file}: no config.yaml beside it ({cfg})")
    model, args = JSTARTask.build_model_from_file(str(cfg), model_file, "cpu")
    model.eval()
    _, batch, _, _ = load_batch(data_dir, args, num_utts)
    with torch.no_grad():
        fast, fl, slow, sl = model.encode(batch["speech"], batch["speech_lengths"])
    res = {"model": model_file, "utts": int(batch["speech"].shape[0]),
           "asr": head_report(model.asr_head, fast, fl, batch["src_text"])}
    if model.asr_weight < 1:  # the cascade's ASR model has an untrained ST head: skip it
        res["st"] = head_report(model.st_head, slow, sl, batch["text"])
    return res


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", required=True, type=Path)
    p.add_argument("--model", action="append", required=True, help="model .pth (repeatable)")
    p.add_argument("--num_utts", type=int, default=16)
    p.add_argument("--num_threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.num_threads)
    warnings.filterwarnings("ignore", message=".*deprecated.*")
    for m in a.model:
        print(json.dumps(report(m, a.data_dir, a.num_utts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
