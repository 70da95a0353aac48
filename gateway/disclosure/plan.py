"""Compiled field plans: what one role sees of an order, decided once.

Casbin is consulted when the policy loads, never per field per row: the answers
are compiled here into a flat list of operations that `render` runs for each
order. A field the plan does not list is never copied into the output, so
`hidden` is the default, not a branch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gateway.core.errors import ConfigurationError
from gateway.disclosure.classification import Classification


class Level(StrEnum):
    """Disclosure levels, from least to most revealing."""

    HIDDEN = "hidden"
    MASKED = "masked"
    CLEAR_AFTER_2FA = "clear_after_2fa"
    CLEAR = "clear"


class RowScope(StrEnum):
    """Which orders a role may read: all, or those of the principal's region."""

    ALL = "all"
    REGION = "region"


class WriteScope(StrEnum):
    """Which orders a role may write: any channel's, or those of the principal's channel."""

    ANY = "any"
    CHANNEL = "channel"


Transform = Callable[[Any], Any]
# (section or None, key, path, transform or None)
_Op = tuple[str | None, str, str, Transform | None]
# (key, transform or None) inside a list section
_ItemOp = tuple[str, Transform | None]


@dataclass(frozen=True)
class FieldPlan:
    """Everything one role may do and see, compiled from the policy."""

    role: str
    policy_version: str
    levels: Mapping[str, Level]
    operations: frozenset[tuple[str, str]]
    row_scope: RowScope | None
    write_scope: WriteScope | None
    # Paths the role sees in any form: only these are ever decrypted for it.
    shown: frozenset[str]
    # Paths an unmask grant can turn from masked to clear (level clear_after_2fa).
    revealable: frozenset[str]
    # What the audit log records of a read: each path shown, with its level.
    shown_levels: Mapping[str, str]
    # Shown paths whose mask works on the stored detection (free text): the reader
    # loads the spans with the text, as a `DetectedText`, for these only.
    spans: frozenset[str]
    # Scalar fields before the list sections, the list sections, scalar fields after:
    # three runs keep the output in document order without a branch per field.
    _head: tuple[_Op, ...] = field(repr=False)
    _list_ops: tuple[tuple[str, tuple[_ItemOp, ...]], ...] = field(repr=False)
    _tail: tuple[_Op, ...] = field(repr=False)

    def allows(self, obj: str, act: str) -> bool:
        return (obj, act) in self.operations

    @property
    def can_write_orders(self) -> bool:
        # A create grant without a write scope is unusable: fail closed.
        return self.allows("orders", "create") and self.write_scope is not None

    @property
    def can_read_orders(self) -> bool:
        # A read grant without a row scope is unusable: fail closed.
        return self.allows("orders", "read") and self.row_scope is not None

    def render(self, flat: Mapping[str, Any]) -> dict[str, Any]:
        """Build the output document from a flat `path -> value` mapping.

        List sections (`items`) arrive as `flat[section]`, a sequence of
        `key -> value` mappings. Values are the stored, normalised values.
        """
        doc: dict[str, Any] = {}
        _apply(self._head, flat, doc)
        for section, item_ops in self._list_ops:
            rows: Sequence[Mapping[str, Any]] = flat[section]
            doc[section] = [
                {
                    key: (tr(row[key]) if tr is not None and row[key] is not None else row[key])
                    for key, tr in item_ops
                }
                for row in rows
            ]
        _apply(self._tail, flat, doc)
        return doc


def _apply(ops: tuple[_Op, ...], flat: Mapping[str, Any], doc: dict[str, Any]) -> None:
    for section, key, path, transform in ops:
        value = flat[path]
        if transform is not None and value is not None:
            value = transform(value)
        if section is None:
            doc[key] = value
        else:
            target = doc.get(section)
            if target is None:
                target = doc[section] = {}
            target[key] = value


def compile_plan(
    role: str,
    policy_version: str,
    levels: Mapping[str, Level],
    operations: frozenset[tuple[str, str]],
    row_scope: RowScope | None,
    write_scope: WriteScope | None,
    classification: Classification,
    list_sections: Collection[str],
) -> FieldPlan:
    """Turn per-field levels into render operations; a masked field needs a mask."""
    head: list[_Op] = []
    tail: list[_Op] = []
    list_ops: dict[str, list[_ItemOp]] = {}
    with_spans: set[str] = set()
    for path in classification.fields:  # classification order = document order
        level = levels.get(path, Level.HIDDEN)
        if level is Level.HIDDEN:
            continue
        transform: Transform | None = None
        if level in (Level.MASKED, Level.CLEAR_AFTER_2FA):
            # clear_after_2fa shows the mask until a reveal grant says otherwise.
            mask = classification.mask_for(path)
            if mask is None:
                raise ConfigurationError(
                    f"role {role!r} sees field {path!r} as {level.value}, "
                    "but the classification gives it no mask"
                )
            transform = mask.apply
            if mask.needs_spans:
                with_spans.add(path)
        section, _, key = path.rpartition(".")
        if section in list_sections:
            list_ops.setdefault(section, []).append((key, transform))
        else:
            (tail if list_ops else head).append((section or None, key, path, transform))
    return FieldPlan(
        role=role,
        policy_version=policy_version,
        levels=dict(levels),
        operations=operations,
        row_scope=row_scope,
        write_scope=write_scope,
        shown=frozenset(p for p, level in levels.items() if level is not Level.HIDDEN),
        revealable=frozenset(p for p, lv in levels.items() if lv is Level.CLEAR_AFTER_2FA),
        shown_levels={p: lv.value for p, lv in levels.items() if lv is not Level.HIDDEN},
        spans=frozenset(with_spans),
        _head=tuple(head),
        _list_ops=tuple((s, tuple(o)) for s, o in list_ops.items()),
        _tail=tuple(tail),
    )
