"""Scoring of JSTAR decode directories: WER, BLEU/chrF, speaker attribution, latency, RTF.

See ``docs/CONTRACTS.md`` §4 for the input format and ``shared/DESIGN.md`` §5 for the
latency definitions.
"""

from espnet2_jstar.metrics.breakdown import wer_breakdown
from espnet2_jstar.metrics.latency import (
    aggregate_latencies,
    assign_words_to_segments,
    average_lagging,
    average_proportion,
    differentiable_average_lagging,
    end_offset,
    instance_latency,
    length_adaptive_average_lagging,
    real_time_factor,
    segment_latencies,
)
from espnet2_jstar.metrics.quality import (
    align_words,
    bleu_chrf,
    speaker_attributed_wer,
    speaker_tag_accuracy,
    wer,
)
from espnet2_jstar.metrics.readers import ScoringInputError
from espnet2_jstar.metrics.score import score_decode_dir
from espnet2_jstar.metrics.text import (
    SPEAKER_TAGS,
    TimedWord,
    attributed_words,
    pieces_to_words,
    split_sot,
    split_timed_words,
    strip_tags,
    tokenize_sot,
)

__all__ = [
    "SPEAKER_TAGS",
    "ScoringInputError",
    "TimedWord",
    "aggregate_latencies",
    "align_words",
    "assign_words_to_segments",
    "attributed_words",
    "average_lagging",
    "average_proportion",
    "bleu_chrf",
    "differentiable_average_lagging",
    "end_offset",
    "instance_latency",
    "length_adaptive_average_lagging",
    "pieces_to_words",
    "real_time_factor",
    "score_decode_dir",
    "segment_latencies",
    "speaker_attributed_wer",
    "speaker_tag_accuracy",
    "split_sot",
    "split_timed_words",
    "strip_tags",
    "tokenize_sot",
    "wer",
    "wer_breakdown",
]
