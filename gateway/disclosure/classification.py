"""The field classification file: every document field, its data category and mask.

Loaded and validated once at start-up with pydantic; any gap (an unclassified
document field, an unknown category or mask) is a `ConfigurationError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gateway.core.errors import ConfigurationError
from gateway.core.policyfiles import load_toml
from gateway.disclosure.masks import Mask, get_mask

CLASSIFICATION_FILE = "classification.toml"


class Category(BaseModel):
    """A data category (contact, identity, ...) and how its fields are treated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    personal: bool
    sensitive: bool = False
    encrypted: bool = False
    description: str = Field(min_length=1)


class FieldClass(BaseModel):
    """One document field's category and mask."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str
    mask: str | None = None
    description: str = Field(min_length=1)


class _ClassificationFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: dict[str, Category]
    fields: dict[str, FieldClass]


class Classification:
    """Validated classification, checked against the fields the document really has."""

    def __init__(self, raw: _ClassificationFile, document_fields: Iterable[str]) -> None:
        problems: list[str] = []
        expected = set(document_fields)
        for path in sorted(expected - raw.fields.keys()):
            problems.append(f"document field {path!r} has no classification")
        for path in sorted(raw.fields.keys() - expected):
            problems.append(f"classified field {path!r} is not part of the order document")
        for name, category in sorted(raw.categories.items()):
            if category.encrypted and not category.personal:
                problems.append(f"category {name!r} is encrypted but not personal")
        for path, field in sorted(raw.fields.items()):
            if field.category not in raw.categories:
                problems.append(f"field {path!r} has unknown category {field.category!r}")
            if field.mask is not None:
                try:
                    get_mask(field.mask)
                except ConfigurationError as exc:
                    problems.append(f"field {path!r}: {exc.detail}")
        if problems:
            raise ConfigurationError("field classification: " + "; ".join(problems))
        self.categories: Mapping[str, Category] = raw.categories
        self.fields: Mapping[str, FieldClass] = raw.fields

    def encrypted_paths(self) -> frozenset[str]:
        """Fields stored only as ciphertext under the subject's key."""
        return frozenset(
            path for path, f in self.fields.items() if self.categories[f.category].encrypted
        )

    def mask_for(self, path: str) -> Mask | None:
        name = self.fields[path].mask
        return None if name is None else get_mask(name)

    @classmethod
    def load(cls, policy_dir: Path, document_fields: Iterable[str]) -> Classification:
        path = policy_dir / CLASSIFICATION_FILE
        raw = load_toml(path, _ClassificationFile, "field classification file")
        return cls(raw, document_fields)
