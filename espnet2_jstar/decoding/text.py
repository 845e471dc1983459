"""Token ids -> pieces -> text, through ESPnet's tokenizer and ``TokenIDConverter``."""

from __future__ import annotations

from typing import List, Optional, Sequence

from espnet2.text.build_tokenizer import build_tokenizer
from espnet2.text.token_id_converter import TokenIDConverter


class TokenDecoder:
    """Convert token ids of one stream to pieces and detokenised text.

    Args:
        token_list: The stream's token list (index = id).
        token_type: "bpe", "char" or "word".
        bpemodel: Sentencepiece model for "bpe".
    """

    def __init__(self, token_list: Sequence[str], token_type: str = "bpe",
                 bpemodel: Optional[str] = None) -> None:
        self.converter = TokenIDConverter(list(token_list))
        self.token_type = token_type
        self.tokenizer = build_tokenizer(token_type, bpemodel=bpemodel) if (
            token_type != "bpe" or bpemodel) else None

    def ids2tokens(self, ids: Sequence[int]) -> List[str]:
        return self.converter.ids2tokens([int(i) for i in ids])

    def ids2text(self, ids: Sequence[int]) -> str:
        tokens = self.ids2tokens(ids)
        if self.tokenizer is not None:
            text = self.tokenizer.tokens2text(tokens)
        else:  # no sentencepiece model: join pieces, "▁" starts a word
            text = "".join(tokens).replace("▁", " ")
        return " ".join(text.replace("<self>", " <self> ").replace("<other>", " <other> ").split())

    @classmethod
    def from_train_args(cls, args, stream: str) -> "TokenDecoder":
        """Build from a JSTAR training config namespace; stream is "asr" or "st"."""
        if stream == "asr":
            token_list = getattr(args, "src_token_list", None) or args.token_list
            token_type = getattr(args, "src_token_type", None) or args.token_type
            bpemodel = getattr(args, "src_bpemodel", None) or args.bpemodel
        else:
            token_list, token_type, bpemodel = args.token_list, args.token_type, args.bpemodel
        if isinstance(token_list, str):
            with open(token_list, encoding="utf-8") as f:
                token_list = [line.rstrip() for line in f]
        return cls(token_list, token_type, bpemodel)
