"""Transducer MT model used to pre-train JSTAR's slow encoder and ST head on text pairs.

Source tokens are embedded into vectors of the size of JSTAR's fast-encoder output (the slow
encoder's input), optionally repeated ``repeat`` times each to bring the "frame" rate closer
to the acoustic one, and run through the *same* slow encoder and ST transducer head as JSTAR:

```
src_text (B, L) ─ [blanks] ─ src_embed ─ [src_norm] ─ repeat ─ slow_encoder ─┐
text (B, U) ──────────────────────────────── st_head (predictor + joiner + loss [+ CTC])
```

The attribute names ``slow_encoder`` and ``st_head`` are those of
:class:`~espnet2_jstar.models.jstar_model.JSTARModel`, so the parameter names map 1:1
(``slow_encoder.*``, ``st_head.*``) and :func:`espnet2_jstar.models.mt_init.init_from_mt`
copies them by name. The encoder runs under its chunk mask exactly as in JSTAR (dynamic chunk
sizes in training, the decoding chunk in evaluation), so what the MT model learns is what a
streaming slow encoder can compute.

With ``src_blanks=N`` the source reads like a CTC output: 0..N blank tokens (id 0, uniform)
follow each source token in training, N//2 in evaluation. Such a model suits JSTAR's CTC
bridge (:mod:`~espnet2_jstar.models.bridge`), whose slow encoder reads posterior-weighted
source embeddings, mostly blank, one frame per character.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch

from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel
from espnet2_jstar.encoders.abs_encoder import AbsJSTAREncoder
from espnet2_jstar.models.jstar_model import TransducerHead
from espnet2_jstar.models.step_counter import register_step_counter


def insert_blanks(ids: torch.Tensor, lengths: torch.Tensor, max_blanks: int,
                  random: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """Insert blank tokens (id 0) after each token: 0..max_blanks uniformly at random, or
    ``max_blanks // 2`` each when not ``random``.

    Args:
        ids: Token ids, padding anywhere past ``lengths``. (B, L)
        lengths: (B,)

    Returns:
        ids with blanks, padded with 0 (B, L'), and their lengths (B,).
    """
    B, L = ids.shape
    valid = torch.arange(L, device=ids.device)[None, :] < lengths[:, None].to(ids.device)
    if random:
        extra = torch.randint(0, max_blanks + 1, (B, L), device=ids.device)
    else:
        extra = torch.full((B, L), max_blanks // 2, device=ids.device)
    counts = (1 + extra) * valid
    ends = counts.cumsum(dim=1)
    new_lengths = ends[:, -1] if L > 0 else lengths.new_zeros(B)
    out = ids.new_zeros(B, max(int(new_lengths.max()) if B else 0, 1))
    rows, cols = valid.nonzero(as_tuple=True)
    out[rows, (ends - counts)[rows, cols]] = ids[rows, cols]
    return out, new_lengths.to(lengths.dtype)


def substitute_tokens(ids: torch.Tensor, lengths: torch.Tensor, prob: float,
                      vocab_size: int) -> torch.Tensor:
    """Replace each source token, with probability ``prob``, by a token drawn uniformly from
    ``[2, vocab_size - 1)`` (not blank 0, ``<unk>`` 1 or ``<sos/eos>`` last): the MT model
    then learns to translate from sources with recognition errors, as JSTAR's slow encoder
    sees through the CTC bridge. Padding past ``lengths`` is left alone.

    Args:
        ids: Token ids. (B, L)
        lengths: (B,)

    Returns:
        (B, L) ids with substitutions.
    """
    if prob <= 0 or vocab_size <= 3:
        return ids
    B, L = ids.shape
    valid = torch.arange(L, device=ids.device)[None, :] < lengths[:, None].to(ids.device)
    hit = (torch.rand(B, L, device=ids.device) < prob) & valid
    return torch.where(hit, torch.randint_like(ids, 2, vocab_size - 1), ids)


class MTTransducerModel(AbsESPnetModel):
    """Streaming transducer MT: token embedding → slow encoder → ST transducer head.

    Args:
        src_vocab_size: Source vocabulary size.
        vocab_size: Target vocabulary size.
        token_list: Target token list.
        slow_encoder: JSTAR slow encoder built for input size ``embed_size``.
        st_head: ST transducer head (same class/config as JSTAR's).
        embed_size: Source embedding size D (= JSTAR's fast-encoder output size).
        repeat: Each source embedding is repeated this many times (rate matching).
        src_blanks: Blank tokens inserted after each source token (see above); 0: none.
        src_substitute: In training, replace each source token with this probability by a
            random one (:func:`substitute_tokens`), to mimic ASR errors; 0: never.
        embed_dropout: Dropout on the source embeddings (training).
        embed_norm: Layer-normalise the embeddings (the fast encoder's output, which the slow
            encoder reads in JSTAR, ends with a layer norm too).
        src_token_list: Source token list (default: ``token_list``).
        blank_id: Blank index of the target vocabulary.
        ignore_id: Padding value of the token tensors.
    """

    # ESPnet's collect_stats: only shapes, no feature statistics for text input.
    extract_feats_in_collect_stats = False

    def __init__(
        self,
        src_vocab_size: int,
        vocab_size: int,
        token_list: List[str],
        slow_encoder: AbsJSTAREncoder,
        st_head: TransducerHead,
        embed_size: int,
        repeat: int = 2,
        src_blanks: int = 0,
        src_substitute: float = 0.0,
        embed_dropout: float = 0.0,
        embed_norm: bool = True,
        src_token_list: Optional[List[str]] = None,
        blank_id: int = 0,
        ignore_id: int = -1,
    ) -> None:
        super().__init__()
        if repeat < 1:
            raise ValueError(f"repeat must be >= 1, got {repeat}")
        if src_blanks < 0:
            raise ValueError(f"src_blanks must be >= 0, got {src_blanks}")
        if not 0 <= src_substitute < 1:
            raise ValueError(f"src_substitute must be in [0, 1), got {src_substitute}")
        self.src_vocab_size = src_vocab_size
        self.vocab_size = vocab_size
        self.token_list = list(token_list)
        self.src_token_list = list(src_token_list or token_list)
        self.embed_size = embed_size
        self.repeat = int(repeat)
        self.src_blanks = int(src_blanks)
        self.src_substitute = float(src_substitute)
        self.blank_id = blank_id
        self.ignore_id = ignore_id
        self.src_embed = torch.nn.Embedding(src_vocab_size, embed_size)
        self.src_norm = torch.nn.LayerNorm(embed_size) if embed_norm else None
        self.embed_dropout = torch.nn.Dropout(embed_dropout)
        self.slow_encoder = slow_encoder
        self.st_head = st_head
        register_step_counter(self)  # persistent: a resumed run continues the loss warm-up

    def embed(
        self, src_text: torch.Tensor, src_text_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Source tokens → repeated embedding frames (the slow encoder's input).

        Args:
            src_text: Source token ids, padded with ``ignore_id`` (any negative value). (B, L)
            src_text_lengths: (B,)

        Returns:
            x: Embedding frames. (B, L' * repeat, D); L' = L plus inserted blanks
            x_lens: (B,) = ``src_text_lengths * repeat`` without blanks
        """
        ids = src_text.masked_fill(src_text < 0, 0)
        if self.training:
            ids = substitute_tokens(ids, src_text_lengths, self.src_substitute,
                                    self.src_vocab_size)
        if self.src_blanks > 0:
            ids, src_text_lengths = insert_blanks(ids, src_text_lengths, self.src_blanks,
                                                  self.training)
        x = self.src_embed(ids)
        if self.src_norm is not None:
            x = self.src_norm(x)
        x = self.embed_dropout(x)
        if self.repeat > 1:
            x = x.repeat_interleave(self.repeat, dim=1)
        return x, src_text_lengths * self.repeat

    def encode(
        self, src_text: torch.Tensor, src_text_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Embed and run the slow encoder under its chunk mask.

        Args:
            src_text: Source token ids. (B, L)
            src_text_lengths: (B,)

        Returns:
            enc_out: (B, T, D_enc), T ≈ L * repeat / subsampling
            enc_lens: (B,)
        """
        src_text = src_text[:, : int(src_text_lengths.max())]
        x, x_lens = self.embed(src_text, src_text_lengths)
        return self.slow_encoder(x, x_lens)

    def forward(
        self,
        src_text: torch.Tensor,
        src_text_lengths: torch.Tensor,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        **kwargs,
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], torch.Tensor]:
        """Transducer (+CTC) loss of the ST head on text input.

        Args:
            src_text: Source tokens, padded with -1. (B, L)
            src_text_lengths: (B,)
            text: Target tokens, padded with -1. (B, U)
            text_lengths: (B,)

        Returns:
            loss, stats, batch weight (ESPnet convention, through ``force_gatherable``).
        """
        batch_size = src_text.shape[0]
        if self.training:
            self.num_updates += 1
            self.st_head.loss.set_step(int(self.num_updates))
        text = text[:, : int(text_lengths.max())]
        enc_out, enc_lens = self.encode(src_text, src_text_lengths)
        if enc_out.size(1) == 0 or bool((enc_lens <= 0).any()):
            raise ValueError(
                f"sentences {kwargs.get('utt_id', '?')} are too short for the slow encoder's "
                f"subsampling ({self.slow_encoder.subsampling_factor}) with repeat="
                f"{self.repeat}: no encoder frames left; raise --repeat"
            )
        loss, s_st = self.st_head(enc_out, enc_lens, text)
        stats = {"loss": loss.detach(), "loss_st": loss.detach()}
        stats.update({f"st_{k}": torch.tensor(v) for k, v in s_st.items()})
        return force_gatherable((loss, stats, batch_size), loss.device)

    def collect_feats(
        self, src_text: torch.Tensor, src_text_lengths: torch.Tensor, **kwargs
    ) -> Dict[str, torch.Tensor]:
        """No features to normalise for text input (ESPnet's collect_stats)."""
        return {}
