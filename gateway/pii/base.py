"""The shape every recognizer of the gateway has, on top of Presidio's.

Presidio's `EntityRecognizer` is the contract the analyzer runs; ours add one
method, `find`, that yields plain (start, end, score) triples, so a recognizer
is a pattern and a check, testable without an analyzer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, NamedTuple

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts


class Found(NamedTuple):
    start: int
    end: int
    score: float


class Recognizer(EntityRecognizer):
    """A Presidio recognizer for one entity type, in one language."""

    entity: ClassVar[str]

    def __init__(self, language: str) -> None:
        super().__init__(
            supported_entities=[self.entity],
            name=type(self).__name__,
            supported_language=language,
        )

    def load(self) -> None:
        """Nothing to load: patterns are compiled with the class."""

    def find(self, text: str) -> Iterator[Found]:
        raise NotImplementedError

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            RecognizerResult(
                self.entity,
                found.start,
                found.end,
                found.score,
                # The context enhancer writes into the explanation: it must exist.
                analysis_explanation=AnalysisExplanation(
                    recognizer=type(self).__name__, original_score=found.score
                ),
            )
            for found in self.find(text)
        ]
