"""Input blocks (frame-rate reduction) that stream exactly.

``StreamingConvInput`` reuses ESPnet's ``asr_transducer`` ``ConvInput`` (2-D conv subsampling
without padding in time) and adds the bookkeeping ESPnet lacks for exact streaming: its
receptive field and stride, correct output lengths, and a buffer of input frames between calls.
``FrameStackInput`` is the cheap block of the slow encoder (stack k frames, then a linear
layer); it is hand-written because no ESPnet block reduces an encoder-output sequence this way.
"""

from __future__ import annotations

from typing import Tuple

import torch

from espnet2.asr_transducer.encoder.blocks.conv_input import ConvInput


class _StreamingInput(torch.nn.Module):
    """Receptive field ``receptive`` input frames, stride ``stride`` (= subsampling factor)."""

    receptive: int = 1
    stride: int = 1
    output_size: int = 0

    def output_lengths(self, lens: torch.Tensor) -> torch.Tensor:
        out = torch.div(lens - self.receptive, self.stride, rounding_mode="floor") + 1
        return out.clamp(min=0)

    def stream(
        self, buf: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Consume complete receptive fields from ``buf``. (1, n, D) -> ((1, m, D'), rest)"""
        n = buf.size(1)
        m = 0 if n < self.receptive else (n - self.receptive) // self.stride + 1
        if m == 0:
            return buf.new_zeros(1, 0, self.output_size), buf
        used = (m - 1) * self.stride + self.receptive
        y = self._run(buf[:, :used])
        return y, buf[:, m * self.stride:]

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, x_lens: torch.Tensor):
        """(B, T, D), (B,) -> (B, T', D'), (B,)"""
        if x.size(1) < self.receptive:
            return x.new_zeros(x.size(0), 0, self.output_size), torch.zeros_like(x_lens)
        return self._run(x), self.output_lengths(x_lens)


class StreamingConvInput(_StreamingInput):
    """ESPnet ``ConvInput`` (non-VGG) with streaming bookkeeping.

    Args:
        input_size: Feature dimension.
        conv_size: Conv channels.
        subsampling_factor: 2, 4 or 6.
        output_size: Output dimension.
    """

    def __init__(
        self, input_size: int, conv_size: int, subsampling_factor: int, output_size: int
    ) -> None:
        super().__init__()
        self.conv_input = ConvInput(
            input_size, conv_size, subsampling_factor, vgg_like=False, output_size=output_size
        )
        r, s = 1, 1
        for m in self.conv_input.conv:
            if isinstance(m, torch.nn.Conv2d):
                k, st = m.kernel_size[0], m.stride[0]
                assert m.padding[0] == 0, "streaming needs no padding in time"
                r += (k - 1) * s
                s *= st
        self.receptive, self.stride = r, s
        self.output_size = output_size

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.conv_input(x, None)
        return y


class FrameStackInput(_StreamingInput):
    """Stack ``stack`` consecutive frames and project: (B, T, D) -> (B, T // stack, D')."""

    def __init__(self, input_size: int, output_size: int, stack: int = 1) -> None:
        super().__init__()
        self.receptive = self.stride = stack
        self.output_size = output_size
        self.linear = torch.nn.Linear(input_size * stack, output_size)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        m = t // self.stride
        x = x[:, : m * self.stride].reshape(b, m, d * self.stride)
        return self.linear(x)


def build_input_block(
    input_size: int, output_size: int, block_type: str = "conv2d",
    subsampling_factor: int = 4, conv_size: int = 64,
) -> _StreamingInput:
    """Build an input block from YAML options (``input_conf``)."""
    if block_type == "conv2d":
        return StreamingConvInput(input_size, conv_size, subsampling_factor, output_size)
    if block_type in ("linear", "stack"):
        return FrameStackInput(input_size, output_size, stack=subsampling_factor)
    raise ValueError(f"unknown input block_type {block_type!r} (conv2d | linear)")
