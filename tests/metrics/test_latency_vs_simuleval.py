"""Our latency figures equal SimulEval 1.1.4's own scorers on identical delays."""

import json
import random
import warnings

import pytest

with warnings.catch_warnings():  # pydub warns about ffmpeg at import time
    warnings.simplefilter("ignore")
    from simuleval.evaluator.scorers import latency_scorer as sl

from espnet2_jstar.metrics.latency import (
    aggregate_latencies,
    instance_latency,
    segment_latencies,
)
from espnet2_jstar.metrics.text import TimedWord

# SimulEval logs skipped (empty) instances with the deprecated Logger.warn.
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated")

# our key -> SimulEval scorer class
SCORERS = {
    "first_token_ms": sl.StartOffsetScorer,
    "al_ms": sl.ALScorer,
    "laal_ms": sl.LAALScorer,
    "dal_ms": sl.DALScorer,
    "ap": sl.APScorer,
    "end_offset_ms": sl.EndOffsetScorer,
}


def _instance(index, delays, src_len, ref_len, elapsed=None):
    """A SimulEval LogInstance as read back from its instances.log (word latency unit)."""
    info = {
        "index": index,
        "prediction": " ".join(f"h{i}" for i in range(len(delays))),
        "delays": delays,
        "elapsed": elapsed if elapsed is not None else delays,
        "source_length": src_len,
        "reference": " ".join(f"r{i}" for i in range(ref_len)),
    }
    return sl.LogInstance(json.dumps(info), latency_unit="word")


def _simuleval(key, instances, computation_aware=False):
    scorer = SCORERS[key](computation_aware=computation_aware, use_ref_len=True)
    return scorer(instances)


def _cases():
    rng = random.Random(20241219)
    cases = [
        ([500.0], 1000.0, 1),  # one word, one reference word
        ([1500.0], 1000.0, 3),  # one word after the source ended
        ([1200.0, 1300.0, 1400.0], 1000.0, 3),  # first delay beyond the source
        ([1000.0, 1000.0, 1200.0], 1000.0, 2),  # first delay exactly at the source end
        ([0.0, 0.0, 320.0, 320.0, 640.0], 640.0, 3),  # hyp longer than ref (LAAL != AL)
        ([100.0, 900.0], 1000.0, 6),  # hyp shorter than ref
        ([200.0, 400.0, 2000.0, 2100.0], 1000.0, 4),  # tail beyond the source
    ]
    for _ in range(25):
        src = rng.uniform(300.0, 8000.0)
        n = rng.randint(1, 15)
        delays = sorted(rng.uniform(0.0, 1.3 * src) for _ in range(n))
        cases.append((delays, src, rng.randint(1, 15)))
    return cases


@pytest.mark.parametrize("delays,src_len,ref_len", _cases())
def test_instance_matches_simuleval(delays, src_len, ref_len):
    ours = instance_latency(delays, src_len, ref_len)
    ins = {0: _instance(0, delays, src_len, ref_len)}
    for key in SCORERS:
        assert ours[key] == pytest.approx(_simuleval(key, ins), rel=1e-9, abs=1e-9), key


def test_corpus_mean_ideal_and_computation_aware_match_simuleval():
    """Segments from timed words: delays from the segment start, mean over segments.

    Segment 1 has no output; SimulEval skips instances without delays and so do we.
    """
    words = [
        TimedWord("<self>", 0.30, 0.35),
        TimedWord("where", 0.64, 0.70),
        TimedWord("is", 0.96, 1.10),
        TimedWord("it", 1.92, 2.05),
        TimedWord("<other>", 2.20, 2.40),
        TimedWord("<self>", 4.00, 4.30),
        TimedWord("ok", 4.48, 4.90),
    ]
    ref_segments = [
        {"start": 0.5, "end": 1.7, "ref_len": 4},
        {"start": 1.9, "end": 3.5, "ref_len": 3},
        {"start": 3.8, "end": 4.4, "ref_len": 1},
    ]
    per_seg = segment_latencies(words, ref_segments)
    assert per_seg[1] is None
    ours = aggregate_latencies(per_seg)
    assert ours["segments"] == 3 and ours["segments_with_output"] == 2

    def ms(x):
        return x * 1000.0

    ins = {
        0: _instance(
            0,
            [ms(0.64 - 0.5), ms(0.96 - 0.5), ms(1.92 - 0.5)],
            ms(1.2),
            4,
            elapsed=[ms(0.70 - 0.5), ms(1.10 - 0.5), ms(2.05 - 0.5)],
        ),
        1: _instance(1, [], ms(1.6), 3, elapsed=[]),
        2: _instance(2, [ms(4.48 - 3.8)], ms(0.6), 1, elapsed=[ms(4.90 - 3.8)]),
    }
    for key in SCORERS:
        if key == "end_offset_ms":
            # SimulEval's EndOffset has no computation-aware variant (it reads `delays`).
            want_ca = None
        else:
            want_ca = _simuleval(key, ins, computation_aware=True)
        assert ours["ideal"][key] == pytest.approx(_simuleval(key, ins), rel=1e-9), key
        if want_ca is not None:
            assert ours["computation_aware"][key] == pytest.approx(want_ca, rel=1e-9), key
    # Our computation-aware end offset: last wall emission minus segment end, by hand.
    want = ((ms(2.05 - 0.5) - ms(1.2)) + (ms(4.90 - 3.8) - ms(0.6))) / 2
    assert ours["computation_aware"]["end_offset_ms"] == pytest.approx(want)


def test_no_output_anywhere():
    """SimulEval's mean over zero instances raises; we report None instead."""
    ins = {0: _instance(0, [], 1000.0, 2, elapsed=[])}
    with pytest.raises(Exception):
        _simuleval("laal_ms", ins)
    ours = aggregate_latencies([None, None])
    assert ours["segments_with_output"] == 0
    assert ours["ideal"]["laal_ms"] is None
