"""Bulk import of order documents from JSON Lines.

Each line is validated like an API request; bad lines are reported by line number
and field (never by value) and skipped, good lines are written in batches through
the same idempotent path as `POST /v1/orders`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from gateway.core.errors import GatewayError, field_problem
from gateway.core.principal import Principal
from gateway.orders.schemas import OrderIn
from gateway.orders.service import OrderService

BATCH_SIZE = 200


@dataclass
class ImportReport:
    lines: int = 0
    created: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        return (
            f"{self.lines} line(s) read: {self.created} created, {self.unchanged} already "
            f"present and unchanged, {len(self.rejected)} rejected"
        )


def describe_validation(exc: ValidationError) -> str:
    """Field paths and rules only; pydantic's `input` is deliberately left out."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        problem = field_problem(".".join(str(p) for p in error["loc"]), error["msg"])
        parts.append(f"{problem.field}: {problem.message}")
    return "; ".join(parts)


def parse_line(text: str) -> OrderIn:
    """Raise ValueError with a value-free message for a line that is not a valid order."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")  # noqa: TRY004 - one error type per bad line
    try:
        return OrderIn.model_validate(data)
    except ValidationError as exc:
        raise ValueError(describe_validation(exc)) from None


async def import_lines(
    service: OrderService,
    actor: Principal | None,
    lines: Iterable[str],
    progress: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    """Import `lines` as `actor` (None: the operator, who may write any channel)."""
    report = ImportReport()
    batch: list[tuple[int, OrderIn]] = []

    async def flush() -> None:
        results = await service.create_many(actor, [order for _, order in batch])
        for (number, _), result in zip(batch, results, strict=True):
            if isinstance(result, GatewayError):
                report.rejected.append((number, result.detail))
            elif result[1]:
                report.created += 1
            else:
                report.unchanged += 1
        progress(len(batch))
        batch.clear()

    for number, text in enumerate(lines, start=1):
        report.lines = number
        if not text.strip():
            progress(1)
            continue
        try:
            batch.append((number, parse_line(text)))
        except ValueError as exc:
            report.rejected.append((number, str(exc)))
            progress(1)
            continue
        if len(batch) >= BATCH_SIZE:
            await flush()
    if batch:
        await flush()
    return report
