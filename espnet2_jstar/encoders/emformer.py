"""torchaudio ``Emformer`` as a JSTAR streaming encoder.

The Emformer layers are torchaudio's. This wrapper adds the streaming input block, the
buffering of ``segment_length + right_context_length`` frames per ``infer`` call and the
explicit per-stream state. Emformer's segment length is fixed at construction (its attention
masks are built from it), so there is no dynamic chunk training here; ``chunk_size`` is the
segment length.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import torch
from torchaudio.models import Emformer

from espnet2_jstar.encoders.abs_encoder import AbsJSTAREncoder, EncoderState
from espnet2_jstar.encoders.input_blocks import build_input_block


class EmformerEncoder(AbsJSTAREncoder):
    """Input block + torchaudio Emformer.

    Args:
        input_size: Input feature dimension.
        hidden_size: Emformer dimension.
        linear_size: Feed-forward dimension.
        num_blocks: Emformer layers.
        heads: Attention heads.
        segment_length: Chunk (segment) size in output frames.
        left_context_length: Left context in output frames.
        right_context_length: Look-ahead in output frames.
        max_memory_size: Emformer memory bank size.
        dropout_rate: Dropout.
        input_conf: Input block options (see ``input_blocks.build_input_block``).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 144,
        linear_size: int = 576,
        num_blocks: int = 6,
        heads: int = 4,
        segment_length: int = 8,
        left_context_length: int = 32,
        right_context_length: int = 2,
        max_memory_size: int = 0,
        dropout_rate: float = 0.1,
        input_conf: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__()
        input_conf = dict(input_conf or {"block_type": "conv2d", "subsampling_factor": 4})
        self.embed = build_input_block(input_size, hidden_size, **input_conf)
        self.subsampling_factor = self.embed.stride
        self.emformer = Emformer(
            hidden_size, heads, linear_size, num_blocks, segment_length,
            dropout=dropout_rate, left_context_length=left_context_length,
            right_context_length=right_context_length, max_memory_size=max_memory_size,
        )
        self._output_size = hidden_size
        self.chunk_size = segment_length
        self.right_context = right_context_length

    def output_size(self) -> int:
        return self._output_size

    def output_lengths(self, x_lens: torch.Tensor) -> torch.Tensor:
        return self.embed.output_lengths(x_lens)

    def forward(self, x: torch.Tensor, x_lens: torch.Tensor):
        """(B, T_in, D_in) -> (B, T_out, D). Right context is zero-padded at the end."""
        x, lens = self.embed(x, x_lens)
        if x.size(1) == 0:
            return x, lens
        x = torch.nn.functional.pad(x, (0, 0, 0, self.right_context))
        y, _ = self.emformer(x, lens)
        return y, lens

    def sub_frames_for_next_chunk(self, state: EncoderState) -> int:
        return state.emitted + self.chunk_size + self.right_context

    def init_state(self, device: torch.device = torch.device("cpu")) -> EncoderState:
        return EncoderState(caches=[])

    def forward_chunk(self, x: torch.Tensor, state: EncoderState, final: bool = False):
        """(1, n, D_in) -> (1, m, D); see :meth:`AbsJSTAREncoder.forward_chunk`."""
        pend = self._subsample_stream(x, state)
        seg, rc = self.chunk_size, self.right_context
        outs = []
        while pend.size(1) >= seg + rc or (final and pend.size(1) > 0):
            n_valid = min(seg, pend.size(1))
            block = pend[:, : seg + rc]
            if block.size(1) < seg + rc:
                block = torch.nn.functional.pad(block, (0, 0, 0, seg + rc - block.size(1)))
            lengths = torch.tensor([seg + rc], device=x.device)
            y, _, states = self.emformer.infer(
                block, lengths, state.caches if state.caches else None
            )
            state.caches = states
            outs.append(y[:, :n_valid])
            pend = pend[:, n_valid:]
            if final and pend.size(1) <= 0:
                break
        state.pending_sub = pend
        out = torch.cat(outs, dim=1) if outs else x.new_zeros(1, 0, self._output_size)
        state.emitted += out.size(1)
        return out, state
