"""Translate text with a trained transducer MT model (cascade baseline, MT evaluation).

The input is tokenised exactly as in training (the task's preprocessor: cleaner, source
sentencepiece model, source token list), encoded by the slow encoder under its decoding chunk
mask (``mode="chunked"``, what a streaming slow encoder computes) or with full context, and
searched greedily or with ESPnet's transducer beam search (:class:`TransducerSearch`).

Speaker tags (``<self>``, ``<other>``) of the input are kept: the output carries the input's
tags, in the input's order, whatever tags the model emits (see
``MTTranslator.translate_full`` for how segments are matched). So the cascade can pass an ASR
segment ``<self> where is the station`` and get ``<self> dónde está la estación``.

Usage:
    from espnet2_jstar.decoding.mt_translate import MTTranslator
    mt = MTTranslator("exp/mt/config.yaml", "exp/mt/valid.loss.ave.pth", beam_size=4)
    mt.translate("<self> where is the station")   # -> "<self> dónde está la estación"
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from espnet2_jstar.decoding.search import TransducerSearch
from espnet2_jstar.decoding.text import TokenDecoder
from espnet2_jstar.models.mt_model import MTTransducerModel

DEFAULT_TAGS = ("<self>", "<other>")


@dataclass
class Translation:
    """One translated input.

    Attributes:
        text: Detokenised translation with the input's speaker tags.
        token_int: Target token ids (tag ids included where the tag is in the vocabulary).
        tokens: Target pieces.
        src_token_int: Source token ids fed to the model, per segment.
    """

    text: str = ""
    token_int: List[int] = field(default_factory=list)
    tokens: List[str] = field(default_factory=list)
    src_token_int: List[List[int]] = field(default_factory=list)


def split_tagged(text: str, tags: Sequence[str] = DEFAULT_TAGS) -> List[Tuple[Optional[str], str]]:
    """Split ``"<self> a b <other> c"`` into ``[("<self>", "a b"), ("<other>", "c")]``.

    Text before the first tag (or all of it, without tags) gets the tag ``None``; segments
    with neither tag nor text are dropped, a tag with no text is kept (``("<self>", "")``).
    """
    if not tags:
        return [(None, " ".join(text.split()))] if text.strip() else []
    pattern = "(" + "|".join(re.escape(t) for t in tags) + ")"
    parts = re.split(pattern, text)
    out: List[Tuple[Optional[str], str]] = []
    if parts[0].strip():
        out.append((None, " ".join(parts[0].split())))
    for i in range(1, len(parts), 2):
        out.append((parts[i], " ".join(parts[i + 1].split())))
    return out


class MTTranslator:
    """Text → text with a transducer MT model.

    Args:
        train_config: ``config.yaml`` of the MT training (``None``: next to the model file).
        model_file: MT model ``.pth`` (or an experiment directory).
        beam_size: 1 = greedy, > 1 = ESPnet transducer beam search.
        max_sym_per_frame: Greedy: symbols per encoder frame at most. MT emits more tokens
            per frame than ASR (about one frame per source token), hence the larger default.
        mode: "chunked" (decoding chunk mask, as streaming) or "full" (full context).
        blank_penalty: Subtracted from the blank logit (0 = off; tune on dev against
            under-generation, see :class:`~espnet2_jstar.decoding.search.BlankPenaltyJoint`).
        device: Torch device.
        tags: Speaker tags kept from the input.
        tag_in_input: Split mode: feed each segment with its tag (as in SOT training).
        segments: "whole" (one pass, tags relabelled, falls back to "split") or "split"
            (one pass per tagged segment; what the cascade's single segments get anyway).
        model, train_args: An already built model and its namespace (instead of files).
    """

    def __init__(
        self,
        train_config: Optional[Union[str, Path]] = None,
        model_file: Optional[Union[str, Path]] = None,
        beam_size: int = 1,
        max_sym_per_frame: int = 8,
        mode: str = "chunked",
        blank_penalty: float = 0.0,
        device: str = "cpu",
        tags: Sequence[str] = DEFAULT_TAGS,
        tag_in_input: bool = True,
        segments: str = "whole",
        model: Optional[MTTransducerModel] = None,
        train_args=None,
    ) -> None:
        from espnet2_jstar.tasks.mt import MTTask

        if mode not in ("chunked", "full"):
            raise ValueError(f"mode must be 'chunked' or 'full', got {mode!r}")
        if segments not in ("whole", "split"):
            raise ValueError(f"segments must be 'whole' or 'split', got {segments!r}")
        if model is None:
            model, train_args = MTTask.build_model_from_file(train_config, model_file, device)
        if train_args is None:
            raise ValueError("train_args is required with a prebuilt model")
        self.model = model.eval()
        self.device = device
        self.mode = mode
        self.tags = tuple(tags)
        self.tag_in_input = tag_in_input
        self.segments = segments
        args = _preprocess_args(train_args)
        self.preprocess = MTTask.build_preprocess_fn(args, train=False)
        self.tgt = TokenDecoder(model.token_list, args.token_type, args.bpemodel)
        self.search = TransducerSearch.for_head(model.st_head, beam_size, max_sym_per_frame,
                                                blank_penalty)
        self._tag_ids = {t: model.token_list.index(t) for t in self.tags if t in model.token_list}
        self._tag_set = set(self._tag_ids.values())

    # ------------------------------------------------------------------ ids
    def encode_text(self, text: str) -> List[int]:
        """Source text → source token ids (the training preprocessor)."""
        if not text.strip():
            return []
        out = self.preprocess("mt_input", {"src_text": text})
        return [int(i) for i in np.asarray(out["src_text"]).reshape(-1)]

    @torch.no_grad()
    def translate_ids(self, src_ids: Sequence[int]) -> List[int]:
        """Source token ids → target token ids (blank-free).

        Args:
            src_ids: Source token ids. (L,)

        Returns:
            Target token ids. (U,)
        """
        if len(src_ids) == 0:
            return []
        src = torch.as_tensor([list(src_ids)], dtype=torch.long, device=self.device)
        lens = torch.tensor([src.size(1)], device=self.device)
        ctx = _full_context(self.model.slow_encoder) if self.mode == "full" \
            else contextlib.nullcontext()
        with ctx:
            enc, enc_lens = self.model.encode(src, lens)
        enc = enc[0, : int(enc_lens[0])]
        state = self.search.init_state(enc.device)
        self.search.step(enc, state, final=True)
        return list(state.tokens)

    # ------------------------------------------------------------------ text
    def translate_full(self, text: str) -> Translation:
        """Translate, keeping the input's speaker tags; returns ids and pieces too.

        ``segments="whole"``: the whole input (tags included, as in SOT training) in one
        pass, the model's output tags relabelled with the input's in order; if the model's
        tags do not line up with the input's (count or position), falls back to
        ``"split"``: one pass per tagged segment.
        """
        in_segs = split_tagged(text, self.tags)
        res = Translation()
        out_segs = None
        if self.segments == "whole":
            ids = self.encode_text(text)
            res.src_token_int = [ids]
            out_segs = self._relabel(self.translate_ids(ids), in_segs)
        if out_segs is None:
            res.src_token_int, out_segs = [], []
            for tag, seg in in_segs:
                src = f"{tag} {seg}" if (tag and self.tag_in_input) else seg
                ids = self.encode_text(src) if seg else []
                res.src_token_int.append(ids)
                out = [i for i in self.translate_ids(ids) if i not in self._tag_set]
                out_segs.append((tag, out))
        words: List[str] = []
        for tag, out in out_segs:
            if tag is not None and tag in self._tag_ids:
                res.token_int.append(self._tag_ids[tag])
            res.token_int.extend(out)
            seg_text = self.tgt.ids2text(out)
            for t in self.tags:  # tags spelled as plain text by a non-tag vocabulary
                seg_text = seg_text.replace(t, " ")
            words += ([tag] if tag else []) + seg_text.split()
        res.tokens = self.tgt.ids2tokens(res.token_int)
        res.text = " ".join(words)
        return res

    def _relabel(
        self, out: List[int], in_segs: List[Tuple[Optional[str], str]]
    ) -> Optional[List[Tuple[Optional[str], List[int]]]]:
        """Split output ids at tag ids and give each part the input's tag (None: mismatch)."""
        segs: List[Tuple[Optional[int], List[int]]] = [(None, [])]
        for i in out:
            if i in self._tag_set:
                segs.append((i, []))
            else:
                segs[-1][1].append(i)
        if not self.tgt.ids2text(segs[0][1]).strip():
            segs = segs[1:]  # nothing but word-boundary pieces before the first tag
        if len(in_segs) <= 1:  # one segment (the cascade's case): all output is its text
            tag = in_segs[0][0] if in_segs else None
            return [(tag, [i for _, ids in segs for i in ids])] if segs or in_segs else []
        if len(segs) != len(in_segs) or (segs[0][0] is None) != (in_segs[0][0] is None):
            return None
        return [(tag, ids) for (tag, _), (_, ids) in zip(in_segs, segs)]

    def translate(self, text: str) -> str:
        """Source text (optionally with speaker tags) → translation with the same tags."""
        return self.translate_full(text).text

    __call__ = translate


def _preprocess_args(train_args):
    """A copy of the training namespace for the preprocessor (token lists may be lists)."""
    import argparse

    args = argparse.Namespace(**vars(train_args))
    args.use_preprocessor = True
    for name, default in (("src_token_type", None), ("src_bpemodel", None),
                          ("src_token_list", None), ("non_linguistic_symbols", None),
                          ("cleaner", None)):
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


@contextlib.contextmanager
def _full_context(encoder):
    """Temporarily lift a chunked encoder's chunk mask."""
    saved = None
    if hasattr(encoder, "num_left_chunks"):
        saved = (encoder.chunk_size, encoder.num_left_chunks)
        encoder.chunk_size, encoder.num_left_chunks = 0, 0
    try:
        yield
    finally:
        if saved is not None:
            encoder.chunk_size, encoder.num_left_chunks = saved
