"""Precision, recall and F1 of the gateway's PII analyzer on a labelled JSONL file.

Each line is `{"text": ..., "entities": [{"type", "start", "end"}, ...]}` (other
keys are ignored). The file is run through the same `Detector` the gateway uses
when it writes an order (no customer name is known here, so only the cue-word
and pattern rules find names). A predicted span counts when it overlaps a
labelled span of the same type; a labelled span is found when a predicted span
of its type overlaps it.

    python bench/pii_eval.py FILE [--json] [--errors]

`--errors` lists the misses and false alarms on stderr, with their text: use it
on synthetic or consented data only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.pii.analyzer import Detector
from gateway.pii.spans import ENTITY_TYPES, Span

MIN_SECONDS = 1.0  # texts per second is measured over at least this long


@dataclass
class Tally:
    predicted: int = 0
    predicted_right: int = 0
    support: int = 0
    found: int = 0

    def add(self, other: Tally) -> None:
        self.predicted += other.predicted
        self.predicted_right += other.predicted_right
        self.support += other.support
        self.found += other.found

    def figures(self) -> dict[str, float | int]:
        precision = self.predicted_right / self.predicted if self.predicted else 1.0
        recall = self.found / self.support if self.support else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": self.support,
        }


def load(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"]
                gold = [
                    Span(int(e["start"]), int(e["end"]), str(e["type"])) for e in row["entities"]
                ]
            except (ValueError, KeyError, TypeError) as exc:
                raise SystemExit(f"{path}:{number}: not a labelled text ({exc})") from None
            rows.append({"id": row.get("id", f"line {number}"), "text": text, "gold": gold})
    return rows


def _overlaps(a: Span, b: Span) -> bool:
    return a.type == b.type and a.start < b.end and b.start < a.end


def score(
    rows: Sequence[dict[str, Any]], predictions: Sequence[Sequence[Span]], errors: list[str]
) -> dict[str, Tally]:
    tallies = {name: Tally() for name in ENTITY_TYPES}
    for row, predicted in zip(rows, predictions, strict=True):
        text, gold = row["text"], row["gold"]
        for span in predicted:
            tally = tallies.setdefault(span.type, Tally())
            tally.predicted += 1
            if any(_overlaps(span, g) for g in gold):
                tally.predicted_right += 1
            else:
                errors.append(f"{row['id']}: false {span.type} {text[span.start : span.end]!r}")
        for g in gold:
            tally = tallies.setdefault(g.type, Tally())
            tally.support += 1
            if any(_overlaps(g, p) for p in predicted):
                tally.found += 1
            else:
                errors.append(f"{row['id']}: missed {g.type} {text[g.start : g.end]!r} in {text!r}")
    return tallies


def evaluate(path: Path, detector: Detector | None = None) -> tuple[dict[str, Any], list[str]]:
    """The figures of `path` as the `--json` object, and the error lines."""
    rows = load(path)
    detector = detector or Detector()
    texts = [row["text"] for row in rows]
    predictions = [detector.detect(text) for text in texts]
    errors: list[str] = []
    tallies = score(rows, predictions, errors)
    passes, started = 0, time.perf_counter()
    while True:
        for text in texts:
            detector.detect(text)
        passes += 1
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS or not texts:
            break
    overall = Tally()
    for tally in tallies.values():
        overall.add(tally)
    result = {
        "per_type": {name: tally.figures() for name, tally in tallies.items()},
        "overall": overall.figures(),
        "texts_per_second": round(passes * len(texts) / elapsed, 1) if texts else 0.0,
    }
    return result, errors


def table(result: dict[str, Any]) -> str:
    lines = [f"{'type':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for name, f in [*result["per_type"].items(), ("overall", result["overall"])]:
        lines.append(
            f"{name:<16}{f['precision']:>10.4f}{f['recall']:>10.4f}{f['f1']:>10.4f}{f['support']:>10}"
        )
    lines.append(f"texts per second: {result['texts_per_second']:.0f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="labelled JSONL file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--errors", action="store_true", help="list misses and false alarms")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        parser.error(f"{args.file} is not a file")
    result, errors = evaluate(args.file)
    if args.errors:
        for line in errors:
            print(line, file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
