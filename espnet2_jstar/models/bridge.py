"""Bridges between JSTAR's fast encoder and its slow encoder.

By default the slow encoder reads the fast encoder's output directly. The slow encoder and
the ST head are initialised from a transducer MT model
(:class:`~espnet2_jstar.models.mt_model.MTTransducerModel`), whose slow encoder read
*layer-normalised source-token embeddings*, not acoustic frames. At the start of JSTAR
training its input is therefore unlike anything the MT model saw, and on small data the
MT-initialised ST head falls back on its predictor (a target language model).

:class:`CTCEmbeddingBridge` gives the slow encoder an input in the MT model's own space:
the fast encoder's ASR CTC posteriors weight the MT model's source embeddings,

```
fast_out (B, T, D) ─ asr CTC linear ─ softmax ─ p (B, T, V_src) ─ p @ E (V_src, D) ─ LayerNorm
                                                                     [+ fast_out (residual)]
```

It is frame-local, so streaming is unchanged. ``E`` and the LayerNorm are the MT model's
``src_embed`` / ``src_norm`` (``init_from_mt`` copies them), and gradients of the ST loss
flow into the fast encoder through ``p``. Written here because neither ESPnet nor torchaudio
has a posterior-weighted embedding bridge; it is the soft, streaming form of the
"CTC-compressed" inputs used in cascaded/joint ST work.
"""

from __future__ import annotations

import torch


class CTCEmbeddingBridge(torch.nn.Module):
    """Soft source-token embedding of each fast-encoder frame.

    Args:
        src_vocab_size: ASR (source) vocabulary size, the ASR CTC's output size.
        embed_size: Embedding size D; must equal the fast encoder's output size and the MT
            model's ``embed_size``.
        temperature: Softmax temperature on the CTC logits (1.0: the CTC posteriors).
        residual: Add the fast encoder's output to the embedding (keeps acoustic detail,
            e.g. for speaker tags, that the posteriors drop).
    """

    def __init__(self, src_vocab_size: int, embed_size: int, temperature: float = 1.0,
                 residual: bool = False) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.src_embed = torch.nn.Embedding(src_vocab_size, embed_size)
        self.src_norm = torch.nn.LayerNorm(embed_size)
        self.temperature = float(temperature)
        self.residual = bool(residual)

    def forward(self, fast_out: torch.Tensor, ctc_logits: torch.Tensor) -> torch.Tensor:
        """Map fast-encoder frames to the slow encoder's input.

        Args:
            fast_out: Fast encoder output. (B, T, D)
            ctc_logits: ASR CTC logits of the same frames. (B, T, V_src)

        Returns:
            Slow encoder input. (B, T, D)
        """
        if ctc_logits.size(-1) != self.src_embed.num_embeddings:
            raise ValueError(
                f"CTC bridge: CTC has {ctc_logits.size(-1)} outputs but the bridge's embedding "
                f"has {self.src_embed.num_embeddings} rows (the ASR token list)"
            )
        probs = torch.softmax(ctc_logits / self.temperature, dim=-1)
        x = self.src_norm(probs @ self.src_embed.weight)
        return x + fast_out if self.residual else x
