"""Streaming encoder interface shared by JSTAR's fast and slow encoders.

An encoder runs in two modes that must agree:

* ``forward(x, x_lens)``: the whole utterance at once, with a chunk attention mask
  (random chunk sizes in training when dynamic chunk training is on, the decoding chunk size
  in evaluation);
* ``forward_chunk(x, state, final)``: real streaming with an explicit per-stream
  :class:`EncoderState`. Any number of input frames can be fed; outputs are produced only for
  complete chunks (``final=True`` flushes the rest). Past frames are never re-encoded: the state
  holds bounded caches (attention left context, convolution tails, unconsumed input frames).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

import torch


@dataclass
class EncoderState:
    """Per-stream state of a streaming encoder (batch size 1).

    Attributes:
        pending_in: Input frames not yet consumed by the input block. (1, n, D_in)
        pending_sub: Subsampled frames waiting for a complete chunk. (1, m, D)
        caches: Per-layer caches (layer-specific tensors).
        processed: Number of subsampled frames already encoded.
        emitted: Number of output frames produced so far.
        fed: Number of input frames fed so far.
    """

    pending_in: Optional[torch.Tensor] = None
    pending_sub: Optional[torch.Tensor] = None
    caches: List[Any] = field(default_factory=list)
    processed: int = 0
    emitted: int = 0
    fed: int = 0

    def num_cached_elements(self) -> int:
        """Total number of tensor elements held (to check that memory stays flat)."""
        n = 0
        for t in [self.pending_in, self.pending_sub]:
            n += 0 if t is None else t.numel()
        stack = list(self.caches)
        while stack:
            c = stack.pop()
            if isinstance(c, torch.Tensor):
                n += c.numel()
            elif isinstance(c, (list, tuple)):
                stack.extend(c)
        return n


class AbsJSTAREncoder(torch.nn.Module, ABC):
    """Abstract streaming encoder.

    Subclasses set ``subsampling_factor`` (input frames per output frame) and
    ``chunk_size`` (output frames per streaming chunk; 0 means full context).
    """

    subsampling_factor: int = 1
    chunk_size: int = 0

    @abstractmethod
    def output_size(self) -> int:
        """Output feature dimension."""

    @abstractmethod
    def forward(
        self, x: torch.Tensor, x_lens: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode whole utterances with the chunk mask.

        Args:
            x: Input features. (B, T_in, D_in)
            x_lens: Input lengths. (B,)

        Returns:
            y: Encoder output. (B, T_out, D)
            y_lens: Output lengths. (B,)
        """

    @abstractmethod
    def init_state(self, device: torch.device = torch.device("cpu")) -> EncoderState:
        """Fresh streaming state for one stream."""

    @abstractmethod
    def forward_chunk(
        self, x: torch.Tensor, state: EncoderState, final: bool = False
    ) -> Tuple[torch.Tensor, EncoderState]:
        """Stream input frames.

        Args:
            x: New input frames, any number. (1, n, D_in)
            state: The stream's state (updated and returned).
            final: Flush buffered frames (end of stream).

        Returns:
            y: Newly produced output frames. (1, m, D)
            state: Updated state.
        """

    def _subsample_stream(self, x: torch.Tensor, state: EncoderState) -> torch.Tensor:
        """Feed new input frames through the streaming input block ``self.embed``.

        Keeps the frames the input block cannot consume yet in ``state.pending_in`` and
        returns every subsampled frame not yet encoded (``state.pending_sub`` + new ones).
        (1, n, D_in) -> (1, m, D)
        """
        state.fed += x.size(1)
        buf = x if state.pending_in is None else torch.cat([state.pending_in, x], dim=1)
        sub, state.pending_in = self.embed.stream(buf)
        return sub if state.pending_sub is None else torch.cat([state.pending_sub, sub], dim=1)

    def output_lengths(self, x_lens: torch.Tensor) -> torch.Tensor:
        """Output lengths for input lengths. (B,) -> (B,)"""
        raise NotImplementedError

    def frames_for_next_chunk(self, state: EncoderState) -> int:
        """Input frames (counted from the stream's start) needed to emit the next chunk."""
        need_sub = self.sub_frames_for_next_chunk(state)
        return (need_sub - 1) * self.embed.stride + self.embed.receptive

    def sub_frames_for_next_chunk(self, state: EncoderState) -> int:
        """Subsampled frames (from the start) needed to emit the next chunk."""
        return state.emitted + self.chunk_size


def chunk_attention_mask(
    size: int, chunk_size: int, num_left_chunks: int, device=None
) -> Optional[torch.Tensor]:
    """Vectorised chunk mask, ``True`` = masked (ESPnet's ``make_chunk_mask`` convention).

    Frame ``i`` in chunk ``c = i // chunk_size`` sees chunks ``c - num_left_chunks .. c``
    (all previous chunks when ``num_left_chunks <= 0``). Written here because ESPnet's
    ``make_chunk_mask`` loops in Python over frames.

    Returns:
        Mask (size, size) or ``None`` for full context (``chunk_size <= 0``).
    """
    if chunk_size <= 0 or chunk_size >= size and num_left_chunks <= 0:
        return None
    idx = torch.arange(size, device=device)
    chunk = idx // chunk_size
    end = (chunk + 1) * chunk_size
    if num_left_chunks > 0:
        start = ((chunk - num_left_chunks).clamp(min=0)) * chunk_size
    else:
        start = torch.zeros_like(idx)
    j = idx.unsqueeze(0)
    visible = (j >= start.unsqueeze(1)) & (j < end.unsqueeze(1))
    return ~visible
