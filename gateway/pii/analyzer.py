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
import importlib.metadata
import logging
import sys
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

from gateway.core import textfold
from gateway.core.errors import ConfigurationError
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
_SOURCES = (base, context, lexicon, names, numbers, spans, textfold)
_PACKAGES = ("presidio-analyzer", "phonenumbers", "python-stdnum", "regex")
# Full-width forms and other scripts' digits, folded one character for one (textfold).
_FOLD = textfold.FOLD


def detector_version(ner_models: Mapping[str, str]) -> str:
    """A stamp of everything that decides what is found: our rules (this module
    too), the libraries whose data or checks they use, and the NER models.
    Stored orders with another stamp are re-detected."""
    digest = hashlib.sha256()
    for module in (*_SOURCES, sys.modules[__name__]):
        digest.update(Path(module.__file__ or "").read_bytes())
    for package in _PACKAGES:
        digest.update(f"\0{package}={importlib.metadata.version(package)}".encode())
    for language, model in sorted(ner_models.items()):
        digest.update(f"\0{language}={model}".encode())
        meta = Path(model) / "meta.json"  # a model directory's own name and version
        if meta.is_file():
            digest.update(meta.read_bytes())
        elif not Path(model).exists():
            digest.update(f"={importlib.metadata.version(model)}".encode())
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


def resolve(results: Iterable[RecognizerResult], text: str) -> tuple[Span, ...]:
    """One type per character: the best result wins the characters it shares.

    Presidio keeps overlapping results of different types. The best result wins
    the characters they share; what the loser covers beyond them is kept as pieces
    of the loser's own type, so nothing found is left in clear and no mask shows
    part of another value (an e-mail mask keeps its domain: a name written against
    it must not become "domain").
    """
    ranked = sorted(
        results,
        key=lambda r: (-r.score, -_PRIORITY.get(r.entity_type, 0), r.start - r.end, r.start),
    )
    kept: list[Span] = []
    for result in ranked:
        pieces = [Span(result.start, result.end, result.entity_type)]
        whole = pieces[0]
        for winner in kept:
            pieces = [part for piece in pieces for part in _outside(piece, winner)]
        if pieces != [whole]:
            pieces = [p for p in (_worth_keeping(text, piece) for piece in pieces) if p]
        kept.extend(pieces)
    return tuple(sorted(kept))


def _outside(piece: Span, winner: Span) -> list[Span]:
    """The parts of `piece` that `winner` does not cover."""
    if piece.end <= winner.start or winner.end <= piece.start:
        return [piece]
    parts = []
    if piece.start < winner.start:
        parts.append(Span(piece.start, winner.start, piece.type))
    if winner.end < piece.end:
        parts.append(Span(winner.end, piece.end, piece.type))
    return parts


def _worth_keeping(text: str, span: Span) -> Span | None:
    """A piece trimmed of spaces, or None if nothing in it could identify anyone
    (a bracket or a separator left over from a longer candidate)."""
    value = text[span.start : span.end]
    stripped = value.strip()
    if not any(char.isalnum() for char in stripped):
        return None
    start = span.start + value.index(stripped)
    return Span(start, start + len(stripped), span.type)


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
        # With an NER model a text takes milliseconds: writers run it off the event loop.
        self.heavy = bool(models)
        self._analyzer = build_analyzer(models)  # refuses a model that is not installed
        self.version = detector_version(models)

    @staticmethod
    def language(text: str) -> str:
        # Recognizers are the same in both; the language picks the NER model, if any.
        return "zh" if _HAN.search(text) else "en"

    def detect(self, text: str, known_names: Sequence[str] = ()) -> tuple[Span, ...]:
        """Spans in `text` (offsets into it as given). Invisible format characters (zero-
        width spaces and the like) are left out while detecting, so `138\u200b1234…` is
        still a phone; a span found across them covers them."""
        if not text.strip():
            return ()
        kept = [i for i, ch in enumerate(text) if ch not in textfold.INVISIBLE]
        visible = "".join(text[i] for i in kept).translate(_FOLD)
        found = self._detect_visible(visible, known_names)
        if len(kept) == len(text):
            return found
        return tuple(Span(kept[span.start], kept[span.end - 1] + 1, span.type) for span in found)

    def _detect_visible(self, text: str, known_names: Sequence[str]) -> tuple[Span, ...]:
        language = self.language(text)
        ad_hoc: list[EntityRecognizer] | None = (
            [names.KnownName(language, known_names)] if known_names else None
        )
        results = self._analyzer.analyze(text=text, language=language, ad_hoc_recognizers=ad_hoc)
        return resolve([*results, *_repeated_names(text, results)], text)
