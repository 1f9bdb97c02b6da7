"""Does the demo's negative burst fire its rule because the classifier reads it?

For each seed, the demo's scenario script (rate 2/s, the TSLA burst of 20 headlines at
60 s) is classified by each artifact, counted into 1-minute buckets per ticker as the
worker counts them (a verbatim repeat adds nothing), and the demo rule
``ticker-negative-spike`` of ``stream/alerts/rules.example.yaml`` is stepped once a minute
through the engine's own ``evaluate``. Prints, per artifact, in how many seeds it fired for
the burst's company, and how many burst headlines were read as negative.

    python bench/demo_burst.py --seeds 10 --also fast=export/artifacts/student-int8-fast
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from export.runtime import OnnxClassifier, default_artifact_dir
from stream.alerts.rules import BUCKET_S, Bucket, KeyState, evaluate, load_rules
from stream.ingest.scenario import Burst, script

RULES = Path(__file__).resolve().parents[1] / "stream" / "alerts" / "rules.example.yaml"
START = datetime(2026, 1, 5, tzinfo=UTC)


def run(artifact: Path, seeds: range, minutes: int) -> tuple[int, list[int]]:
    classifier = OnnxClassifier.from_artifact(artifact)
    (rule,) = [r for r in load_rules(RULES).rules if r.name == "ticker-negative-spike"]
    fired, negatives = 0, []
    for seed in seeds:
        heads = [
            h
            for h in script(seed=seed, rate=2.0, duration_s=minutes * 60.0, burst=Burst("TSLA"))
            if not h.repeat
        ]
        labels = [c.sentiment for c in classifier.classify([h.title for h in heads])]
        negatives.append(
            sum(1 for h, s in zip(heads, labels, strict=True) if h.burst and s == "negative")
        )
        buckets: dict[int, list[int]] = {}
        for h, s in zip(heads, labels, strict=True):
            if h.ticker != "TSLA":
                continue
            b = buckets.setdefault(int(h.at_s // BUCKET_S), [0, 0])
            b[0] += 1
            b[1] += s == "negative"
        series = [
            Bucket(START + timedelta(seconds=BUCKET_S * m), n, neg, -float(neg))
            for m, (n, neg) in sorted(buckets.items())
        ]
        state: KeyState | None = None
        hit = False
        for m in range(minutes):
            now = START + timedelta(seconds=BUCKET_S * (m + 1), microseconds=-1)
            state = evaluate([b for b in series if b.start <= now], rule, now, state).state
            hit |= state is not None and state.state == "firing"
        fired += hit
    return fired, negatives


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--minutes", type=int, default=6)
    ap.add_argument("--also", action="append", default=[], metavar="NAME=ARTIFACT")
    ap.add_argument("--only-also", action="store_true", help="skip the default artifact")
    a = ap.parse_args()
    artifacts = {} if a.only_also else {"default": default_artifact_dir()}
    artifacts |= {k: Path(v) for k, v in (x.split("=", 1) for x in a.also)}
    for name, path in artifacts.items():
        fired, negatives = run(path, range(1, a.seeds + 1), a.minutes)
        print(
            f"{name}: fired in {fired}/{a.seeds} seeds; burst headlines read negative "
            f"(of 20): {negatives}"
        )


if __name__ == "__main__":
    main()
