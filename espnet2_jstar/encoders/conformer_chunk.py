"""Chunked streaming Conformer built from ESPnet ``asr_transducer`` blocks.

The layers (Conformer blocks, relative positional encoding, ``MultiBlocks`` with its
``chunk_forward``) are ESPnet's. What is added here, and why:

* per-encoder dynamic chunk training with its own chunk range (ESPnet's ``Encoder`` has one
  global ``short_chunk_size``; JSTAR's fast and slow encoders need different ranges);
* exact streaming with an explicit per-stream :class:`EncoderState` (ESPnet keeps caches in
  module attributes and re-runs the subsampling on padded chunks, so its streaming output is
  not equal to the full-utterance output); the block caches are swapped in and out per call;
* correct output lengths after subsampling.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, Optional, Tuple

import torch

from espnet2.asr_transducer.encoder.building import (
    build_body_blocks,
    build_main_parameters,
    build_positional_encoding,
)
from espnet2.asr_transducer.utils import make_source_mask
from espnet2_jstar.encoders.abs_encoder import (
    AbsJSTAREncoder,
    EncoderState,
    chunk_attention_mask,
)
from espnet2_jstar.encoders.input_blocks import build_input_block


class ChunkConformerEncoder(AbsJSTAREncoder):
    """Streaming Conformer with chunk attention and causal convolutions.

    Args:
        input_size: Input feature dimension.
        hidden_size: Block dimension.
        linear_size: Feed-forward dimension.
        num_blocks: Number of Conformer blocks.
        heads: Attention heads.
        conv_mod_kernel_size: Depthwise conv kernel (odd).
        dropout_rate: Dropout in the blocks.
        input_conf: Input block: ``{"block_type": "conv2d"|"linear", "subsampling_factor": 4,
            "conv_size": 64}``.
        chunk_size: Decoding chunk size in output frames (0 = full context).
        num_left_chunks: Left context in chunks when streaming (must be > 0 to stream with
            bounded memory).
        dynamic_chunk_training: Sample the chunk size per batch in training.
        chunk_range: ``[min, max]`` chunk sizes (output frames) sampled in training.
        full_context_prob: Probability of a full-context batch in training.
        main_conf: Extra ESPnet ``build_main_parameters`` options (activations, norms).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 144,
        linear_size: int = 576,
        num_blocks: int = 6,
        heads: int = 4,
        conv_mod_kernel_size: int = 15,
        dropout_rate: float = 0.1,
        att_dropout_rate: float = 0.0,
        input_conf: Optional[Dict[str, Any]] = None,
        chunk_size: int = 8,
        num_left_chunks: int = 4,
        dynamic_chunk_training: bool = True,
        chunk_range: Tuple[int, int] = (4, 16),
        full_context_prob: float = 0.0,
        main_conf: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__()
        input_conf = dict(input_conf or {"block_type": "conv2d", "subsampling_factor": 4})
        self.embed = build_input_block(input_size, hidden_size, **input_conf)
        self.subsampling_factor = self.embed.stride
        main_conf = dict(main_conf or {})
        # dynamic_chunk_training=True makes ESPnet's conv modules causal (needed to stream).
        main_conf["dynamic_chunk_training"] = True
        main_params = build_main_parameters(**main_conf)
        self.pos_enc = build_positional_encoding(hidden_size, main_params)
        body = [
            {
                "block_type": "conformer",
                "hidden_size": hidden_size,
                "linear_size": linear_size,
                "conv_mod_kernel_size": conv_mod_kernel_size,
                "heads": heads,
                "dropout_rate": dropout_rate,
                "pos_wise_dropout_rate": dropout_rate,
                "att_dropout_rate": att_dropout_rate,
                "num_blocks": num_blocks,
            }
        ]
        self.encoders = build_body_blocks(body, main_params, hidden_size)
        self._output_size = hidden_size
        self.chunk_size = int(chunk_size)
        self.num_left_chunks = int(num_left_chunks)
        self.dynamic_chunk_training = dynamic_chunk_training
        self.chunk_range = (int(chunk_range[0]), int(chunk_range[1]))
        self.full_context_prob = full_context_prob

    def output_size(self) -> int:
        return self._output_size

    def output_lengths(self, x_lens: torch.Tensor) -> torch.Tensor:
        return self.embed.output_lengths(x_lens)

    @property
    def left_context(self) -> int:
        """Cached left context in output frames."""
        return self.num_left_chunks * self.chunk_size

    def _training_chunk(self) -> Tuple[int, int]:
        if random.random() < self.full_context_prob:
            return 0, 0
        lo, hi = self.chunk_range
        cs = random.randint(lo, hi)
        left_frames = self.num_left_chunks * max(self.chunk_size, 1)
        return cs, max(1, -(-left_frames // cs)) if self.num_left_chunks > 0 else 0

    def forward(self, x: torch.Tensor, x_lens: torch.Tensor):
        """See :meth:`AbsJSTAREncoder.forward`. (B, T_in, D_in) -> (B, T_out, D)"""
        x, lens = self.embed(x, x_lens)
        if x.size(1) == 0:
            return x, lens
        if self.training and self.dynamic_chunk_training:
            cs, nl = self._training_chunk()
        else:
            cs, nl = self.chunk_size, self.num_left_chunks
        return self.encode_subsampled(x, lens, cs, nl), lens

    def encode_subsampled(
        self, x: torch.Tensor, lens: torch.Tensor, chunk_size: int, num_left_chunks: int
    ) -> torch.Tensor:
        """Run the blocks on already subsampled frames with a chunk mask. (B, T, D)"""
        mask = make_source_mask(lens.clamp(min=1)).to(x.device)
        if mask.size(1) < x.size(1):
            mask = torch.nn.functional.pad(mask, (0, x.size(1) - mask.size(1)), value=True)
        chunk_mask = chunk_attention_mask(x.size(1), chunk_size, num_left_chunks, x.device)
        pos_enc = self.pos_enc(x)
        return self.encoders(x, pos_enc, mask, chunk_mask=chunk_mask)

    # ------------------------------------------------------------------ streaming
    def init_state(self, device: torch.device = torch.device("cpu")) -> EncoderState:
        if self.chunk_size <= 0 or self.num_left_chunks <= 0:
            raise ValueError(
                "streaming needs chunk_size > 0 and num_left_chunks > 0 "
                f"(got {self.chunk_size}, {self.num_left_chunks})"
            )
        lc = self.left_context
        caches = []
        for block in self.encoders.blocks:
            block.reset_streaming_cache(lc, device)
            caches.append(block.cache)
        return EncoderState(caches=caches)

    def _encode_chunk(self, x: torch.Tensor, state: EncoderState) -> torch.Tensor:
        lc = self.left_context
        for block, cache in zip(self.encoders.blocks, state.caches):
            block.cache = cache
        pos_enc = self.pos_enc(x, left_context=lc)
        processed_mask = torch.arange(lc, device=x.device).flip(0).view(1, lc)
        processed_mask = processed_mask >= state.processed
        mask = torch.cat(
            [processed_mask, torch.zeros(1, x.size(1), dtype=torch.bool, device=x.device)],
            dim=1,
        )
        y = self.encoders.chunk_forward(x, pos_enc, mask, left_context=lc)
        state.caches = [block.cache for block in self.encoders.blocks]
        state.processed += x.size(1)
        return y

    def forward_chunk(self, x: torch.Tensor, state: EncoderState, final: bool = False):
        """See :meth:`AbsJSTAREncoder.forward_chunk`. (1, n, D_in) -> (1, m, D)"""
        pend = self._subsample_stream(x, state)
        outs: List[torch.Tensor] = []
        cs = self.chunk_size
        while pend.size(1) >= cs or (final and pend.size(1) > 0):
            chunk, pend = pend[:, :cs], pend[:, cs:]
            outs.append(self._encode_chunk(chunk, state))
        state.pending_sub = pend
        y = torch.cat(outs, dim=1) if outs else x.new_zeros(1, 0, self._output_size)
        state.emitted += y.size(1)
        return y, state
