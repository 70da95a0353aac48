"""The gateway's analyzer: Presidio with our recognizers, built once, fully offline.

Presidio's own defaults would reach the network: `AnalyzerEngine()` downloads a
spaCy model, an empty registry loads built-in recognizers whose e-mail check
fetches a suffix list. So the engine is always built here, explicitly: the
no-model NLP engine, a registry holding only our recognizers (one instance per
language), and, only if an operator installed one and named it in the settings,
a spaCy NER model for extra PERSON results. A model that is not installed stops
start-up; nothing is ever downloaded.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

import regex
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine, NoOpNlpEngine, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from gateway.errors import ConfigurationError
from gateway.pii import base, context, lexicon, names, numbers, spans
from gateway.pii.spans import Span

LANGUAGES: Final = ("zh", "en")
THRESHOLD: Final = 0.5
# Which type wins where two overlap at the same score: checked values first.
_PRIORITY: Final = {
    spans.RESIDENT_ID: 6,
    spans.IBAN: 5,
    spans.EMAIL: 5,
    spans.BANK_CARD: 4,
    spans.PHONE: 3,
    spans.PERSON: 1,
}
_HAN = regex.compile(r"\p{Han}")
_SOURCES = (base, context, lexicon, names, numbers, spans)


def detector_version(ner_models: Mapping[str, str]) -> str:
    """A stamp of the rules and models: stored orders with another stamp are re-detected."""
    digest = hashlib.sha256()
    for module in _SOURCES:
        digest.update(Path(module.__file__ or "").read_bytes())
    for language, model in sorted(ner_models.items()):
        digest.update(f"\0{language}={model}".encode())
    return "r" + digest.hexdigest()[:12]


def _nlp_engine(ner_models: Mapping[str, str]) -> NlpEngine:
    if not ner_models:
        return NoOpNlpEngine(
            models=[{"lang_code": lang, "model_name": "no_op"} for lang in LANGUAGES]
        )
    import spacy  # Presidio imports it anyway; named here for the checks below

    for language, model in ner_models.items():
        if language not in LANGUAGES:
            raise ConfigurationError(
                f"PII NER model for unknown language {language!r} (known: {', '.join(LANGUAGES)})"
            )
        if not (spacy.util.is_package(model) or Path(model).is_dir()):
            # Presidio would download it: refuse instead, the gateway runs offline.
            raise ConfigurationError(
                f"PII NER model {model!r} for {language!r} is not installed; install it "
                "(its package, or a model directory) or remove it from GATEWAY_PII_NER_MODELS"
            )
    engine = SpacyNlpEngine(
        models=[{"lang_code": lang, "model_name": model} for lang, model in ner_models.items()]
    )
    engine.load()
    # A language without a model still needs a pipeline: a blank one (no weights).
    assert engine.nlp is not None  # noqa: S101 - load() set it
    engine.nlp.update({lang: spacy.blank(lang) for lang in LANGUAGES if lang not in ner_models})
    return engine


def build_analyzer(ner_models: Mapping[str, str]) -> AnalyzerEngine:
    # Presidio logs each ad-hoc recognizer it loads at INFO: once per order written.
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for language in LANGUAGES:
        for recognizer in (*numbers.NUMBER_RECOGNIZERS, *names.NAME_RECOGNIZERS):
            registry.add_recognizer(recognizer(language))
        if language in ner_models:
            registry.add_recognizer(
                SpacyRecognizer(supported_language=language, supported_entities=[spans.PERSON])
            )
    return AnalyzerEngine(
        nlp_engine=_nlp_engine(ner_models),
        registry=registry,
        supported_languages=list(LANGUAGES),
        default_score_threshold=THRESHOLD,
        # With a model, Presidio's lemma enhancer has tokens to read; without one it
        # only deep-copies every result (40% of the time): our recognizers read their
        # own context.
        context_aware_enhancer=None if ner_models else _RecognizersReadContext(),
    )


class _RecognizersReadContext(ContextAwareEnhancer):
    def __init__(self) -> None:
        super().__init__(
            context_similarity_factor=0,
            min_score_with_context_similarity=0,
            context_prefix_count=0,
            context_suffix_count=0,
        )

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        return raw_results


def resolve(results: Iterable[RecognizerResult]) -> tuple[Span, ...]:
    """One type per character: the best result wins an overlap and absorbs the loser.

    Presidio keeps overlapping results of different types. Dropping the loser
    outright could leave part of it in clear ("会员卡 6222…" found as a longer
    card and a shorter phone), so the winner grows to cover it.
    """
    ranked = sorted(
        results,
        key=lambda r: (-r.score, -_PRIORITY.get(r.entity_type, 0), r.start - r.end, r.start),
    )
    kept: list[Span] = []
    for result in ranked:
        span = Span(result.start, result.end, result.entity_type)
        overlaps = [k for k in kept if k.start < span.end and span.start < k.end]
        if not overlaps:
            kept.append(span)
            continue
        winner = overlaps[0]
        merged = Span(
            min(s.start for s in (span, *overlaps)),
            max(s.end for s in (span, *overlaps)),
            winner.type,
        )
        kept = [k for k in kept if k not in overlaps] + [merged]
    return tuple(sorted(kept))


@functools.cache
def shared_detector(ner_models: tuple[tuple[str, str], ...] = ()) -> Detector:
    """The process's detector for these models: built on first use, then kept."""
    return Detector(dict(ner_models))


def _repeated_names(text: str, results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    """A name found once is a name wherever else it occurs in the same text
    ("送给严晖小朋友的,卡片写:祝严晖六一快乐")."""
    found = {
        text[r.start : r.end]
        for r in results
        if r.entity_type == spans.PERSON and r.end - r.start >= 2  # noqa: PLR2004
    }
    repeated = []
    for name in found:
        latin = not _HAN.match(name)
        start = text.find(name)
        while start >= 0:
            end = start + len(name)
            inside_word = latin and (
                text[start - 1 : start].isalpha() or text[end : end + 1].isalpha()
            )
            if not inside_word:  # "Anna" is not found inside "Annabelle"
                repeated.append(RecognizerResult(spans.PERSON, start, end, 0.55))
            start = text.find(name, end)
    return repeated


class Detector:
    """Finds personal data in free text; one per process (building it costs ~1 s of imports)."""

    def __init__(self, ner_models: Mapping[str, str] | None = None) -> None:
        models = dict(ner_models or {})
        self.version = detector_version(models)
        self._analyzer = build_analyzer(models)

    @staticmethod
    def language(text: str) -> str:
        # Recognizers are the same in both; the language picks the NER model, if any.
        return "zh" if _HAN.search(text) else "en"

    def detect(self, text: str, known_names: Sequence[str] = ()) -> tuple[Span, ...]:
        if not text.strip():
            return ()
        language = self.language(text)
        ad_hoc: list[EntityRecognizer] | None = (
            [names.KnownName(language, known_names)] if known_names else None
        )
        results = self._analyzer.analyze(text=text, language=language, ad_hoc_recognizers=ad_hoc)
        return resolve([*results, *_repeated_names(text, results)])
